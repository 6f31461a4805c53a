import { RevokeCredentialsRequest } from '#contract/schemas';
import { noContent } from '#http/responses';
import { jsonRoute } from '#http/webhook-route';
import { credentials } from '#provisioning/credentials';

export const handler = jsonRoute(RevokeCredentialsRequest, async (event, invocation) => {
  await credentials.revoke(event.body, invocation);
  return noContent();
});
