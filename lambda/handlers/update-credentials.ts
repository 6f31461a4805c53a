import { UpdateCredentialsRequest } from '#contract/schemas';
import { noContent } from '#http/responses';
import { jsonRoute } from '#http/webhook-route';
import { credentials } from '#provisioning/credentials';

export const handler = jsonRoute(UpdateCredentialsRequest, async (event, invocation) => {
  await credentials.update(event.body, invocation);
  return noContent();
});
