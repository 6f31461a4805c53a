import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Caller } from '#history/caller';
import { authenticatedCaller } from './authentication/authenticate.ts';

/** Who a request is from, for the history: its route, the authenticated principal (never a secret), API Gateway's request id. */
export const callerOf = (event: APIGatewayProxyEvent): Caller => {
  const authenticated = authenticatedCaller(event);
  return {
    source: `${event.httpMethod} ${event.resource ?? event.path}`,
    principal: authenticated ? `${authenticated.scheme}:${authenticated.principal}` : 'unknown',
    requestId: event.requestContext?.requestId ?? 'unknown',
  };
};
