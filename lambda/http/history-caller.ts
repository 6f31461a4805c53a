import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '#history/caller';
import { parseBasicAuthorization } from './basic-auth.ts';

/** Who a request is from, for the history: its route, the Basic username (never the password), API Gateway's request id. */
export const callerOf = (event: APIGatewayProxyEvent): Caller => ({
  source: `${event.httpMethod} ${event.resource ?? event.path}`,
  principal: parseBasicAuthorization(event)?.username ?? 'unknown',
  requestId: event.requestContext?.requestId ?? 'unknown',
});
