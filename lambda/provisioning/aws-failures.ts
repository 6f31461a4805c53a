import { awsFailure, throttled, unavailable, WebhookError } from '#contract/errors';
import { LeftoversError } from './provisioner.ts';

const throttlingErrors = new Set(['TooManyRequestsException', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded']);
const quotaErrors = new Set(['LimitExceededException', 'ServiceQuotaExceededException']);

export const isNotFound = (error: unknown) =>
  ['NotFoundException', 'ResourceNotFoundException'].includes((error as Error)?.name);

/**
 * IAM refused the call. API Gateway answers 403 with AccessDeniedException (not in its SDK
 * model, so only the name and status tell) or the modelled UnauthorizedException.
 */
export const isAccessDenied = (error: unknown) =>
  ['AccessDeniedException', 'UnauthorizedException'].includes((error as Error)?.name) ||
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403;

const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** An error from an AWS call (service answer, or a network failure the SDK gave up on), as opposed to a bug of ours. */
const isAwsFailure = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { $metadata, $fault, code } = error as { $metadata?: unknown; $fault?: unknown; code?: string };
  return $metadata !== undefined || $fault !== undefined || error.name === 'TimeoutError' || networkCodes.has(code ?? '');
};

/**
 * Whether a failed AWS call may still have taken effect: a service's 4xx is a refusal,
 * but a time-out, a dropped connection or a 5xx (the last of the SDK's attempts) leaves
 * the outcome unknown, and a create then may have made what it was asked to.
 */
export const mayHaveSucceeded = (error: unknown): boolean => {
  if (!isAwsFailure(error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
};

/** A field AWS must answer with; its absence is AWS's failure (502), not a bug of ours. */
export const requireAnswer = <T>(value: T | undefined, operation: string, what: string): T => {
  if (value === undefined || value === null || value === '') {
    throw Object.assign(new Error(`${operation} answered without ${what}`), { name: 'IncompleteAnswer', $fault: 'server' });
  }
  return value;
};

/** Runs a create whose failure may hide a success as a LeftoversError, so the app's claim is kept. */
export const createOrLeftovers = async <T>(create: Promise<T>): Promise<T> => {
  try {
    return await create;
  } catch (error) {
    throw mayHaveSucceeded(error) ? new LeftoversError(error) : error;
  }
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
