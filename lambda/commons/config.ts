import * as z from 'zod/mini';
import { CredentialType } from '#contract/schemas';

/**
 * The deployment's settings, read from the environment once per container and
 * validated here so that a bad value fails the cold start, naming the variable,
 * instead of failing a portal request later.
 */

const positiveInteger = z.coerce.number().check(z.int(), z.positive());
const withDefault = <T extends z.ZodMiniType>(schema: T, fallback: z.output<T>) => z._default(schema, fallback as never);

const ApiCredentialSettings = z.strictObject({
  type: z.optional(CredentialType),
  scopes: z.optional(
    z.array(z.string().check(z.regex(/^[\w.-]+\/[\w.:/-]+$/, 'a scope is "resource-server-id/scope-name"'))).check(z.maxLength(50)),
  ),
});

export const CredentialPolicySettings = z.strictObject({
  /** Credential type for APIs not listed in `apis`. */
  defaultType: z._default(CredentialType, 'API_KEY'),
  /** Per REST API id: its credential type and the OAuth scopes a client needs to call it. */
  apis: z._default(z.record(z.string().check(z.minLength(1)), ApiCredentialSettings), {}),
  /** The usage plans API keys may join (the ones the functions' IAM role allows); absent: any. */
  usagePlanIds: z.optional(z.array(z.string().check(z.minLength(1)))),
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

const Environment = z.object({
  REGISTRY_TABLE_NAME: z.string().check(z.minLength(1)),
  BASIC_AUTH_SECRET_ID: z.string().check(z.minLength(1)),
  BASIC_AUTH_REALM: withDefault(z.string().check(z.regex(/^[^"\\]+$/)), 'portal-credentials-webhook'),
  BASIC_AUTH_CACHE_SECONDS: withDefault(positiveInteger, 300),
  CREDENTIAL_POLICY: withDefault(jsonText(CredentialPolicySettings), { defaultType: 'API_KEY', apis: {} }),
  USER_POOL_ID: z.optional(z.string().check(z.regex(/^[\w-]+_[0-9a-zA-Z]+$/))),
  TOKEN_URL: z.optional(z.url()),
  ACCESS_TOKEN_VALIDITY_MINUTES: withDefault(z.coerce.number().check(z.int(), z.gte(5), z.lte(1440)), 60),
  CLAIM_LEASE_SECONDS: withDefault(positiveInteger, 60),
  CLAIM_WAIT_SECONDS: withDefault(z.coerce.number().check(z.gte(0), z.lte(20)), 15),
  HISTORY_TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
  HISTORY_RETENTION_DAYS: withDefault(positiveInteger, 365),
});

export type Config = {
  registryTableName: string;
  basicAuth: { secretId: string; realm: string; cacheSeconds: number };
  credentialPolicy: CredentialPolicySettings;
  /** Present when any API is served with client credentials. */
  cognito?: { userPoolId: string; tokenUrl: string; accessTokenValidityMinutes: number };
  claim: { leaseMs: number; waitMs: number };
  /** Present when changes are recorded in a history table. */
  history?: { tableName: string; retentionDays: number };
};

/** Whether the policy gives any API this credential type (the deployment then needs what that type needs). */
export const issues = (policy: Pick<CredentialPolicySettings, 'defaultType' | 'apis'>, type: CredentialType) =>
  policy.defaultType === type || Object.values(policy.apis).some((api) => api.type === type);

export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid webhook configuration: ${problems}`);
  }
  const e = parsed.data;
  const config: Config = {
    registryTableName: e.REGISTRY_TABLE_NAME,
    basicAuth: { secretId: e.BASIC_AUTH_SECRET_ID, realm: e.BASIC_AUTH_REALM, cacheSeconds: e.BASIC_AUTH_CACHE_SECONDS },
    credentialPolicy: e.CREDENTIAL_POLICY,
    claim: { leaseMs: e.CLAIM_LEASE_SECONDS * 1000, waitMs: e.CLAIM_WAIT_SECONDS * 1000 },
    ...(e.HISTORY_TABLE_NAME ? { history: { tableName: e.HISTORY_TABLE_NAME, retentionDays: e.HISTORY_RETENTION_DAYS } } : {}),
  };
  if (issues(config.credentialPolicy, 'CLIENT_CREDENTIALS')) {
    if (!e.USER_POOL_ID || !e.TOKEN_URL) {
      throw new Error('Invalid webhook configuration: USER_POOL_ID and TOKEN_URL are required when CREDENTIAL_POLICY uses CLIENT_CREDENTIALS');
    }
    config.cognito = { userPoolId: e.USER_POOL_ID, tokenUrl: e.TOKEN_URL, accessTokenValidityMinutes: e.ACCESS_TOKEN_VALIDITY_MINUTES };
  }
  return config;
};
