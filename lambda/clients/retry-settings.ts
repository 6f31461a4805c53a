/**
 * Shared SDK settings. API Gateway allows CreateApiKey and DeleteApiKey 5 times a
 * second per account and Cognito 5 app-client operations a second per pool, so a
 * burst from the portal is throttled: the adaptive strategy backs off and rate-limits
 * the client itself. Six attempts stay well inside API Gateway's 29 s budget.
 * Short socket timeouts turn a hung connection into a retry instead of a Lambda timeout.
 */
export const awsClientSettings = {
  retryMode: 'adaptive',
  maxAttempts: 6,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;
