import { CreateCredentialsRequest } from '#contract/schemas';
import { json } from '#http/responses';
import { jsonRoute } from '#http/webhook-route';
import { credentials } from '#provisioning/credentials';

export const handler = jsonRoute(CreateCredentialsRequest, async (event, invocation) => json(200, await credentials.create(event.body, invocation)));
