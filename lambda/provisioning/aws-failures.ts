import { awsFailure, throttled, unavailable, WebhookError } from '#contract/errors';
import { LeftoversError } from './provisioner.ts';

const throttlingErrors = new Set(['TooManyRequestsException', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded']);
const quotaErrors = new Set(['LimitExceededException', 'ServiceQuotaExceededException']);

export const isNotFound = (error: unknown) =>
  ['NotFoundException', 'ResourceNotFoundException'].includes((error as Error)?.name);

const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** An error from an AWS call (service answer, or a network failure the SDK gave up on), as opposed to a bug of ours. */
const isAwsFailure = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { $metadata, $fault, code } = error as { $metadata?: unknown; $fault?: unknown; code?: string };
  return $metadata !== undefined || $fault !== undefined || error.name === 'TimeoutError' || networkCodes.has(code ?? '');
};

/**
 * Says what went wrong in AWS without repeating AWS's own text (it can name ARNs and
 * account ids): throttling that outlived the retries is 429, a full quota 503, the rest 502.
 */
export const toWebhookError = (error: unknown, action: string): unknown => {
  if (error instanceof WebhookError) return error;
  if (error instanceof LeftoversError) {
    return new WebhookError(502, 'AWS_FAILURE', `AWS failed while ${action} and the partial change could not be undone yet; retry the request to finish it.`, undefined, {}, { cause: error });
  }
  if (!isAwsFailure(error)) return error; // a bug: the edge logs it and answers 500
  const name = (error as Error).name;
  if (throttlingErrors.has(name)) return throttled(error);
  if (quotaErrors.has(name)) {
    return unavailable('QUOTA_EXCEEDED', `An AWS quota was reached while ${action}; the platform team must raise it or free capacity.`, error);
  }
  return awsFailure(action, error);
};
