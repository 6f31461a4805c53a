import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { internalError, WebhookError } from '#contract/errors';
import { logger } from '#commons/powertools';

/**
 * Turns any failure into the contract's error body. Only WebhookError messages are
 * returned; anything else is logged and answered with a generic 500, so no stack
 * trace or AWS error text (ARNs, account ids) ever reaches the caller.
 */
export const errorResponder = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: async (request) => {
    const { error } = request;
    const answer = error instanceof WebhookError ? error : internalError();
    if (answer.statusCode >= 500) {
      const cause = error instanceof WebhookError ? error.cause : error;
      logger.error('Request failed', { code: answer.code, cause: describeCause(cause) });
    } else {
      logger.info('Request refused', { code: answer.code, statusCode: answer.statusCode });
    }
    request.response = {
      statusCode: answer.statusCode,
      headers: { 'Content-Type': 'application/json', ...answer.headers },
      body: JSON.stringify(answer.toBody()),
    };
  },
});

/** Name, HTTP status and request id are enough to trace an AWS failure; the raw error may carry secrets in its request. */
const describeCause = (cause: unknown) => {
  if (!(cause instanceof Error)) return cause === undefined ? undefined : String(cause);
  const metadata = (cause as { $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } }).$metadata;
  return {
    name: cause.name,
    message: cause.message,
    httpStatusCode: metadata?.httpStatusCode,
    requestId: metadata?.requestId,
    attempts: metadata?.attempts,
    stack: cause.stack,
  };
};
