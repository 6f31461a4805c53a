/**
 * Shared SDK settings. API Gateway allows CreateApiKey and DeleteApiKey 5 times a
 * second per account and Cognito 5 app-client operations a second per pool, so a
 * burst from the portal is throttled: the adaptive strategy backs off and rate-limits
 * the client itself. Short socket timeouts turn a hung connection into a retry. Five
 * attempts of at most 3 s each plus backoff can still approach the functions' 25 s
 * timeout when everything hangs; middy's early-timeout guard then answers TIMED_OUT.
 */
export const awsClientSettings = {
  retryMode: 'adaptive',
  maxAttempts: 5,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 },
} as const;
