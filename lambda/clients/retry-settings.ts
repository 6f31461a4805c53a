import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/**
 * Shared SDK settings. API Gateway allows CreateApiKey and DeleteApiKey 5 times a
 * second per account and Cognito 5 app-client operations a second per pool, so a
 * burst from the portal is throttled: the adaptive strategy backs off and rate-limits
 * the client itself. `requestTimeout` alone only logs a warning in
 * @smithy/node-http-handler 4.x; with `throwOnRequestTimeout` a call without an answer
 * after 3 s fails as a TimeoutError, which the SDK retries. Five attempts of at most
 * 3 s each plus backoff stay under the functions' 25 s timeout; should everything hang
 * anyway, middy's early-timeout guard answers TIMED_OUT.
 */
export const awsClientSettings = {
  retryMode: 'adaptive',
  maxAttempts: 5,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
} as const;

/** A retry strategy that gives up at once on the errors `isFinal` names, and otherwise defers to `strategy`. */
export const notRetrying = (isFinal: (error: unknown) => boolean, strategy: RetryStrategyV2): RetryStrategyV2 => ({
  acquireInitialRetryToken: (scope: string) => strategy.acquireInitialRetryToken(scope),
  refreshRetryTokenForRetry: async (token: RetryToken, errorInfo: RetryErrorInfo) => {
    // Refusing a token makes the SDK's retry middleware throw the attempt's own error.
    if (isFinal(errorInfo.error)) throw new Error('Not retried: the error is final');
    return strategy.refreshRetryTokenForRetry(token, errorInfo);
  },
  recordSuccess: (token: RetryToken) => strategy.recordSuccess(token),
});

/**
 * API Gateway's refusal of a resource past its quota: LimitExceededException (429) saying "Maximum number
 * of … has been reached", as it answers its resource quotas (hashicorp/terraform-provider-aws#37605,
 * boto/boto3#1296); its rate limit is worded "exceeded the rate limit". The SDK takes the name for
 * throttling, but retrying cannot help.
 */
export const isResourceQuotaRefusal = (error: unknown) =>
  (error as Error)?.name === 'LimitExceededException' && /^maximum number of/i.test((error as Error).message ?? '');
