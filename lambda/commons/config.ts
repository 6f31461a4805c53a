import * as z from 'zod/mini';
import { CredentialType } from '#contract/schemas';
import { accountIdPattern, placementProblems, regionPattern } from './places.ts';
import { functionDefaults as defaults, deploymentIdPattern, leaseMarginSeconds, maxClaimWaitSeconds } from './defaults.ts';

/**
 * The deployment's settings, read from the environment once per container and
 * validated here so that a bad value fails the cold start, naming the variable,
 * instead of failing a portal request later.
 */

const positiveInteger = z.coerce.number().check(z.int(), z.positive());
const withDefault = <T extends z.ZodMiniType>(schema: T, fallback: z.output<T>) => z._default(schema, fallback as never);

const accountId = z.string().check(z.regex(accountIdPattern, 'must be a 12-digit AWS account id'));
const regionName = z.string().check(z.regex(regionPattern, 'must be an AWS Region name such as "eu-west-1"'));

const ApiCredentialSettings = z.strictObject({
  type: z.optional(CredentialType),
  scopes: z.optional(z.array(z.string().check(z.regex(/^[\w.-]+\/[\w.:/-]+$/, 'a scope is "resource-server-id/scope-name"'))).check(z.maxLength(50))),
  /** The account the API (and the usage plans of its API keys) lives in; absent: the webhook's own. */
  account: z.optional(accountId),
  /** The Region the API lives in; absent: the webhook's own. */
  region: z.optional(regionName),
});

/** The accounts and Regions beyond the webhook's own place that it provisions API keys in (`#provisioning/places`). */
const ProvisioningTarget = z.strictObject({
  account: z.optional(accountId),
  regions: z.array(regionName).check(z.minLength(1)),
  roleArn: z.optional(z.string().check(z.regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "must be an IAM role's ARN"))),
  /** STS's ExternalId: 2-1224 characters of letters, digits and `+=,.@:/-`. */
  externalId: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 letters, digits or +=,.@:/-'))),
});

export const CredentialPolicySettings = z.strictObject({
  /** Credential type for APIs not listed in `apis`. */
  defaultType: z._default(CredentialType, 'API_KEY'),
  /** Per REST API id: its credential type and the OAuth scopes a client needs to call it. */
  apis: z._default(z.record(z.string().check(z.minLength(1)), ApiCredentialSettings), {}),
  /** The usage plans API keys may join (the ones the functions' IAM role allows); absent: any. Deployed: `USAGE_PLAN_IDS`. */
  usagePlanIds: z.optional(z.array(z.string().check(z.minLength(1)))),
  /** Where, beyond the webhook's own account and Region, the APIs of `apis` live and how they are reached. */
  targets: z.optional(z.array(ProvisioningTarget)),
});
export type CredentialPolicySettings = z.infer<typeof CredentialPolicySettings>;

const jsonText = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((text: string, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
          return z.NEVER;
        }
      }),
    ),
    schema,
  );

/**
 * How callers may authenticate. `basic`, `bearer` (static tokens) and `apiKey` are checked
 * against the credentials secret, `jwt` against an issuer's JWKS, all in the function and in
 * any combination; `cognito` and `iam` are checked by API Gateway before the function runs,
 * and each is the only scheme of its deployment (a method has one authorization type).
 */
export const authenticationSchemes = ['basic', 'bearer', 'apiKey', 'jwt', 'cognito', 'iam'] as const;
export const AuthenticationScheme = z.enum(authenticationSchemes);
export type AuthenticationScheme = z.infer<typeof AuthenticationScheme>;
export const gatewaySchemes: readonly AuthenticationScheme[] = ['cognito', 'iam'];

/** An HTTP field name (RFC 9110 token) that does not shadow the Authorization header. */
export const apiKeyHeaderName = z.string().check(
  z.regex(/^[A-Za-z0-9!#$%&*+.^_`|~-]{1,64}$/, 'must be an HTTP header name (no quote)'),
  z.refine((name) => name.toLowerCase() !== 'authorization', 'must not be Authorization'),
);

/** An OAuth scope: printable ASCII without space, quotes or backslash (RFC 6749 §3.3; challenges quote it). */
export const oauthScope = z.string().check(z.regex(/^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]{1,256}$/, 'must be one OAuth scope (no spaces or quotes)'));

const commaList = <T extends z.ZodMiniType<unknown, string>>(item: T) =>
  z.pipe(
    z.string(),
    z.pipe(
      z.transform((text: string) =>
        text
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean),
      ),
      z.array(item),
    ),
  );

const uniqueSchemes = z.array(AuthenticationScheme).check(
  z.minLength(1, 'must name at least one scheme'),
  z.refine((schemes) => new Set(schemes).size === schemes.length, 'names a scheme twice'),
  z.refine(
    (schemes) => !schemes.some((scheme) => gatewaySchemes.includes(scheme)) || schemes.length === 1,
    'cognito and iam are checked by API Gateway, one authorization type per route: each must be the only scheme',
  ),
);

/** The longest JWT_MAX_TOKEN_AGE_SECONDS accepted: 30 days, the longest access token any common issuer (Auth0) issues. */
export const maxJwtMaxTokenAgeSeconds = 30 * 86_400;

/** Where the issuer publishes its keys when no JWKS URL is given. */
export const defaultJwksUrl = (issuer: string) => `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`;

/** Hosts that are this machine: a local run's issuer may serve its keys there over plain http. */
const isLoopback = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/**
 * Why a JWKS URL cannot be trusted, or undefined: keys fetched without TLS could be swapped
 * on the way, and every token signed with the swapped key would pass. Plain http is allowed
 * to loopback hosts only, and only where `allowLoopbackHttp` says so (local runs, not synth).
 */
export const jwksUrlProblem = (url: string, { allowLoopbackHttp }: { allowLoopbackHttp: boolean }): string | undefined => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (allowLoopbackHttp && parsed.protocol === 'http:' && isLoopback(parsed.hostname)) return undefined;
  return allowLoopbackHttp ? 'must use https (plain http only to localhost, 127.0.0.0/8 or [::1])' : 'must use https';
};

/** Cognito's pattern of a user-pool id (`us-east-1_AbC123`), from its API model. */
export const userPoolIdPattern = /^[\w-]+_[0-9a-zA-Z]+$/;

const Environment = z.object({
  /** The stack's name: API keys are tagged with it, so that two stacks in one account and Region never take each other's. */
  /** The webhook's own account, which Lambda does not tell a function: the stack sets it. */
  DEPLOYMENT_ACCOUNT_ID: withDefault(accountId, defaults.accountId),
  AWS_REGION: withDefault(regionName, defaults.region),
  DEPLOYMENT_ID: withDefault(z.string().check(z.regex(deploymentIdPattern, 'must be a CloudFormation stack name')), defaults.deploymentId),
  REGISTRY_TABLE_NAME: z.string().check(z.minLength(1)),
  BASIC_AUTH_SECRET_ID: z.string().check(z.minLength(1)),
  BASIC_AUTH_REALM: withDefault(z.string().check(z.regex(/^[^"\\]+$/)), defaults.basicAuthRealm),
  BASIC_AUTH_CACHE_SECONDS: withDefault(positiveInteger, defaults.basicAuthCacheSeconds),
  CREDENTIAL_POLICY: withDefault(jsonText(CredentialPolicySettings), { defaultType: 'API_KEY', apis: {} }),
  /** `id1,id2`: the usage plans API keys may join, as the stack sets them. */
  USAGE_PLAN_IDS: z.optional(
    commaList(z.string().check(z.regex(/^(?:\d{12}\/[a-z0-9-]+\/)?[\w-]+$/, 'must be a usage plan id, or account/region/id for a plan elsewhere'))),
  ),
  USER_POOL_ID: z.optional(z.string().check(z.regex(userPoolIdPattern))),
  TOKEN_URL: z.optional(z.url()),
  /** The user pool's quota of app clients (Cognito's "App clients per user pool", adjustable), as applied to the account. */
  APP_CLIENTS_QUOTA: withDefault(positiveInteger, defaults.appClientsQuota),
  ACCESS_TOKEN_VALIDITY_MINUTES: withDefault(z.coerce.number().check(z.int(), z.gte(5), z.lte(1440)), defaults.accessTokenValidityMinutes),
  CLAIM_LEASE_SECONDS: withDefault(positiveInteger, defaults.claimLeaseSeconds),
  CLAIM_WAIT_SECONDS: withDefault(z.coerce.number().check(z.gte(0), z.lte(maxClaimWaitSeconds)), defaults.claimWaitSeconds),
  /** How long before its lease ends a holder stops acting; shorter only in tests that shorten the lease. */
  CLAIM_LEASE_MARGIN_SECONDS: withDefault(z.coerce.number().check(z.gt(0)), leaseMarginSeconds),
  AUTH_SCHEMES: withDefault(z.pipe(commaList(AuthenticationScheme), uniqueSchemes), [...defaults.authSchemes]),
  API_KEY_HEADER: withDefault(apiKeyHeaderName, defaults.apiKeyHeader),
  JWT_ISSUER: z.optional(z.url()),
  JWT_JWKS_URL: z.optional(z.url()),
  JWT_AUDIENCES: withDefault(commaList(z.string().check(z.minLength(1))), []),
  JWT_CLIENT_IDS: withDefault(commaList(z.string().check(z.minLength(1))), []),
  JWT_SCOPE: withDefault(oauthScope, defaults.scope),
  JWT_JWKS_CACHE_SECONDS: withDefault(positiveInteger, defaults.jwksCacheSeconds),
  JWT_MAX_TOKEN_AGE_SECONDS: withDefault(
    z.coerce.number().check(z.int(), z.gte(60), z.lte(maxJwtMaxTokenAgeSeconds)),
    defaults.jwtMaxTokenAgeSeconds,
  ),
  HISTORY_TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
  HISTORY_RETENTION_DAYS: withDefault(positiveInteger, defaults.historyRetentionDays),
});

export type Config = {
  /** Which deployment (stack) this is: the API keys it tagged with this id are its own. */
  deploymentId: string;
  /** The webhook's own account and Region: APIs the policy places nowhere else live there. */
  home: { account: string; region: string };
  registryTableName: string;
  basicAuth: { secretId: string; realm: string; cacheSeconds: number };
  credentialPolicy: CredentialPolicySettings;
  /** Present when any API is served with client credentials. */
  cognito?: { userPoolId: string; tokenUrl: string; accessTokenValidityMinutes: number; appClientsQuota: number };
  claim: { leaseMs: number; waitMs: number; leaseMarginMs: number };
  authentication: AuthenticationConfig;
  /** Present when changes are recorded in a history table. */
  history?: { tableName: string; retentionDays: number };
};

export type AuthenticationConfig = {
  schemes: AuthenticationScheme[];
  /** The header `apiKey` callers send their key in. */
  apiKeyHeader: string;
  /** Present when `jwt` is enabled: whose access tokens are accepted, for what. */
  accessTokens?: {
    issuer: string;
    jwksUrl: string;
    /** Accepted `aud` values; a token must name one (when set). */
    audiences: string[];
    /** Accepted `client_id` (or `azp`/`cid`/`appid`) values; a token must carry one (when set). */
    clientIds: string[];
    /** The scope a token must hold to call the webhook. */
    scope: string;
    jwksCacheSeconds: number;
    /** The longest a token may live (`exp` − `iat`, or `exp` − now without `iat`). */
    maxTokenAgeSeconds: number;
  };
  /** The scope API Gateway's Cognito authorizer requires, named in challenges. */
  cognitoScope: string;
};

/** Whether the policy gives any API this credential type (the deployment then needs what that type needs). */
export const issuesCredentialType = (policy: Pick<CredentialPolicySettings, 'defaultType' | 'apis'>, type: CredentialType) =>
  policy.defaultType === type || Object.values(policy.apis).some((api) => api.type === type);

export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid webhook configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.CLAIM_LEASE_MARGIN_SECONDS >= e.CLAIM_LEASE_SECONDS) {
    throw new Error('Invalid webhook configuration: CLAIM_LEASE_MARGIN_SECONDS must be shorter than CLAIM_LEASE_SECONDS');
  }
  if (e.USAGE_PLAN_IDS && e.CREDENTIAL_POLICY.usagePlanIds) {
    throw new Error('Invalid webhook configuration: name the usage plans in USAGE_PLAN_IDS or in CREDENTIAL_POLICY.usagePlanIds, not both');
  }
  const home = { account: e.DEPLOYMENT_ACCOUNT_ID, region: e.AWS_REGION };
  const placement = placementProblems(e.CREDENTIAL_POLICY.apis, e.CREDENTIAL_POLICY.targets ?? [], home);
  if (placement.length > 0) throw new Error(`Invalid webhook configuration: CREDENTIAL_POLICY: ${placement.join('; ')}`);
  const config: Config = {
    deploymentId: e.DEPLOYMENT_ID,
    home,
    registryTableName: e.REGISTRY_TABLE_NAME,
    basicAuth: { secretId: e.BASIC_AUTH_SECRET_ID, realm: e.BASIC_AUTH_REALM, cacheSeconds: e.BASIC_AUTH_CACHE_SECONDS },
    credentialPolicy: e.USAGE_PLAN_IDS ? { ...e.CREDENTIAL_POLICY, usagePlanIds: e.USAGE_PLAN_IDS } : e.CREDENTIAL_POLICY,
    claim: { leaseMs: e.CLAIM_LEASE_SECONDS * 1000, waitMs: e.CLAIM_WAIT_SECONDS * 1000, leaseMarginMs: e.CLAIM_LEASE_MARGIN_SECONDS * 1000 },
    authentication: authenticationConfig(e),
    ...(e.HISTORY_TABLE_NAME ? { history: { tableName: e.HISTORY_TABLE_NAME, retentionDays: e.HISTORY_RETENTION_DAYS } } : {}),
  };
  if (issuesCredentialType(config.credentialPolicy, 'CLIENT_CREDENTIALS')) {
    if (!e.USER_POOL_ID || !e.TOKEN_URL) {
      throw new Error('Invalid webhook configuration: USER_POOL_ID and TOKEN_URL are required when CREDENTIAL_POLICY uses CLIENT_CREDENTIALS');
    }
    config.cognito = {
      userPoolId: e.USER_POOL_ID,
      tokenUrl: e.TOKEN_URL,
      accessTokenValidityMinutes: e.ACCESS_TOKEN_VALIDITY_MINUTES,
      appClientsQuota: e.APP_CLIENTS_QUOTA,
    };
  }
  return config;
};

const authenticationConfig = (e: z.infer<typeof Environment>): AuthenticationConfig => {
  const authentication: AuthenticationConfig = { schemes: e.AUTH_SCHEMES, apiKeyHeader: e.API_KEY_HEADER, cognitoScope: e.JWT_SCOPE };
  if (!e.AUTH_SCHEMES.includes('jwt')) return authentication;
  if (!e.JWT_ISSUER) throw new Error('Invalid webhook configuration: JWT_ISSUER is required when AUTH_SCHEMES includes jwt');
  // Without an audience or a client list, any token the issuer signs for any application would do.
  if (e.JWT_AUDIENCES.length === 0 && e.JWT_CLIENT_IDS.length === 0) {
    throw new Error('Invalid webhook configuration: JWT_AUDIENCES or JWT_CLIENT_IDS is required when AUTH_SCHEMES includes jwt');
  }
  const jwksUrl = e.JWT_JWKS_URL ?? defaultJwksUrl(e.JWT_ISSUER);
  const problem = jwksUrlProblem(jwksUrl, { allowLoopbackHttp: true });
  if (problem) {
    const source = e.JWT_JWKS_URL ? 'JWT_JWKS_URL' : 'JWT_JWKS_URL (from JWT_ISSUER, as JWT_JWKS_URL is unset)';
    throw new Error(`Invalid webhook configuration: ${source} ${problem}`);
  }
  authentication.accessTokens = {
    issuer: e.JWT_ISSUER,
    jwksUrl,
    audiences: e.JWT_AUDIENCES,
    clientIds: e.JWT_CLIENT_IDS,
    scope: e.JWT_SCOPE,
    jwksCacheSeconds: e.JWT_JWKS_CACHE_SECONDS,
    maxTokenAgeSeconds: e.JWT_MAX_TOKEN_AGE_SECONDS,
  };
  return authentication;
};
