import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { internalError, WebhookError } from '#contract/errors';
import { logger } from '#commons/powertools';
import { LeftoversError } from '#provisioning/provisioner';

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

/**
 * What an operator needs to trace a failure: name, message, HTTP status, request id and
 * attempts of an AWS error (AWS messages name resources, never our secrets: the SDK
 * keeps request bodies out of them), and for leftovers both failures.
 */
const describeCause = (cause: unknown): unknown => {
  if (!(cause instanceof Error)) return cause === undefined ? undefined : String(cause);
  if (cause instanceof LeftoversError) {
    return {
      name: cause.name,
      message: cause.message,
      original: describeCause(cause.original),
      rollbackFailure: describeCause(cause.rollbackFailure),
    };
  }
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
