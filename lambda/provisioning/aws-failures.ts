import { attemptMayHaveActed, failedAttemptMayHaveActed } from '#clients/attempt-outcomes';
import { awsFailure, misconfigured, throttled, unavailable, WebhookError } from '#contract/errors';
import { isNetworkError } from '#commons/network-errors';
import { logger } from '#commons/powertools';
import { LeftoversError } from './provisioner.ts';

const throttlingErrors = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);
/** Cognito's LimitExceededException (HTTP 400) is a quota; API Gateway's (HTTP 429) is its rate limit. */
const quotaErrors = new Set(['LimitExceededException', 'ServiceQuotaExceededException']);

/**
 * Cognito's refusals of the app-client configuration this deployment sends: retrying cannot
 * help, the platform team must fix a setting. Each names the setting to check.
 */
const configurationErrors: Record<string, string> = {
  ScopeDoesNotExistException: 'CREDENTIAL_POLICY scopes (each must be a custom scope of a resource server in the user pool)',
  InvalidOAuthFlowException: 'the user pool USER_POOL_ID (the client_credentials flow needs a user-pool domain and a resource server)',
  InvalidParameterException: 'USER_POOL_ID, ACCESS_TOKEN_VALIDITY_MINUTES or the CREDENTIAL_POLICY scopes',
};

export const isNotFound = (error: unknown) => ['NotFoundException', 'ResourceNotFoundException'].includes((error as Error)?.name);

/**
 * IAM refused the call. API Gateway answers 403 with AccessDeniedException (not in its SDK
 * model, so only the name and status tell) or the modelled UnauthorizedException.
 */
export const isAccessDenied = (error: unknown) =>
  ['AccessDeniedException', 'UnauthorizedException'].includes((error as Error)?.name) ||
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 403;

/** An error from an AWS call (service answer, or a network failure the SDK gave up on), as opposed to a bug of ours. */
const isAwsFailure = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const { $metadata, $fault } = error as { $metadata?: unknown; $fault?: unknown };
  return $metadata !== undefined || $fault !== undefined || error.name === 'TimeoutError' || isNetworkError(error);
};

/**
 * Whether a failed create may still have taken effect: a service's 4xx is a refusal, but a
 * time-out, a dropped connection or a 5xx on any of the SDK's attempts leaves it unknown.
 * Without a record of the attempts (a client without `recordAttemptOutcomes`), the last one decides.
 */
export const mayHaveSucceeded = (error: unknown): boolean => failedAttemptMayHaveActed(error) ?? attemptMayHaveActed(error);

/**
 * Whether a create that succeeded may also have succeeded on an earlier attempt whose answer
 * was lost, leaving a second resource behind. A retry after throttling alone made nothing.
 */
export const earlierAttemptMayHaveSucceeded = (output: { $metadata?: { attempts?: number } }): boolean =>
  failedAttemptMayHaveActed(output) ?? (output.$metadata?.attempts ?? 1) > 1;

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
 * account ids): a rate limit that outlived the retries is 429, a full quota 503, a
 * configuration Cognito refuses 500 naming the setting, the rest 502.
 */
export const toWebhookError = (error: unknown, action: string): unknown => {
  if (error instanceof WebhookError) return error;
  if (error instanceof LeftoversError) {
    return new WebhookError(
      502,
      'AWS_FAILURE',
      `AWS failed while ${action} and the partial change could not be undone yet; retry the request to finish it.`,
      undefined,
      {},
      { cause: error },
    );
  }
  if (!isAwsFailure(error)) return error; // a bug: the edge logs it and answers 500
  const name = (error as Error).name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (throttlingErrors.has(name) || status === 429) return throttled(error);
  if (quotaErrors.has(name)) {
    return unavailable('QUOTA_EXCEEDED', `An AWS quota was reached while ${action}; the platform team must raise it or free capacity.`, error);
  }
  const setting = configurationErrors[name];
  if (setting !== undefined) {
    // AWS's message says exactly what it refused; it goes to the log, never to the caller.
    logger.error("Cognito refused the deployment's app-client configuration", { setting, errorName: name, awsMessage: (error as Error).message });
    return misconfigured(setting, error);
  }
  return awsFailure(action, error);
};
