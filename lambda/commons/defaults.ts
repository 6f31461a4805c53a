import { serviceName } from './service.ts';

/**
 * What the functions assume for each setting their environment leaves out (lambda/commons/config.ts).
 * The stack's construct, its cdk.json settings and the commands default to the same values by
 * importing them from here.
 */
export const functionDefaults = {
  /** BASIC_AUTH_REALM: the realm of every `WWW-Authenticate` challenge. */
  basicAuthRealm: serviceName,
  /** BASIC_AUTH_CACHE_SECONDS: how long a container keeps the credentials secret. */
  basicAuthCacheSeconds: 300,
  /** AUTH_SCHEMES: the Sensedia portal sends HTTP Basic. */
  authSchemes: ['basic'],
  /** API_KEY_HEADER: the header `apiKey` callers send their key in. */
  apiKeyHeader: 'X-Webhook-Key',
  /** JWT_SCOPE: the scope `jwt` and `cognito` tokens must hold. */
  scope: 'webhook/invoke',
  /** JWT_JWKS_CACHE_SECONDS: how long a container keeps the issuer's JWKS. */
  jwksCacheSeconds: 600,
  /** JWT_MAX_TOKEN_AGE_SECONDS: the longest an access token may live (`exp` − `iat`); a day, Cognito's and Okta's longest. */
  jwtMaxTokenAgeSeconds: 86_400,
  /** APP_CLIENTS_QUOTA: Cognito's default quota of app clients per user pool. */
  appClientsQuota: 1_000,
  /** ACCESS_TOKEN_VALIDITY_MINUTES: the lifetime of issued clients' access tokens. */
  accessTokenValidityMinutes: 60,
  /** CLAIM_LEASE_SECONDS: how long a claim or hold protects a change of an app. */
  claimLeaseSeconds: 60,
  /** CLAIM_WAIT_SECONDS: how long a call waits for another changing the same app. */
  claimWaitSeconds: 15,
  /** HISTORY_RETENTION_DAYS: how long the history keeps each change. */
  historyRetentionDays: 365,
  /** DEPLOYMENT_ID: whose API keys these are when no stack set it (tests, local runs). */
  deploymentId: 'local',
  /** DEPLOYMENT_ACCOUNT_ID: the account local runs and tests stand in for (the stand-ins' own). */
  accountId: '000000000000',
  /** AWS_REGION, which Lambda always sets: the Region local runs and tests stand in for. */
  region: 'us-east-1',
} as const;

/** The stack's name when cdk.json names none: the id its functions tag their API keys with (DEPLOYMENT_ID). */
export const defaultStackName = 'PortalCredentialsWebhook';

/** A CloudFormation stack name, which is what a deployment's id is. */
export const deploymentIdPattern = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * How long before its lease ends a holder stops acting on AWS and the registry: a call it sent
 * just before may take one attempt's time to land (the clients' connection and request time-outs,
 * 5 s), and another container's clock may run a little ahead. The lease must outlast the
 * functions' timeout by more than this, so no invocation reaches its margin while still running.
 */
export const leaseMarginSeconds = 10;

/** The longest CLAIM_WAIT_SECONDS accepted: a call that waited must still have time to act within the functions' timeout. */
export const maxClaimWaitSeconds = 20;
