import { z } from 'zod';
import { CredentialType } from '#contract/schemas';

/**
 * The deployment's settings, read from the environment once per container and
 * validated here so that a bad value fails the cold start, naming the variable,
 * instead of failing a portal request later.
 */

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const ApiCredentialSettings = z.strictObject({
  type: CredentialType.optional(),
  scopes: z.array(z.string().regex(/^[\w.-]+\/[\w.:/-]+$/, 'a scope is "resource-server-id/scope-name"')).max(50).optional(),
});

export const CredentialPolicySettings = z.strictObject({
  /** Credential type for APIs not listed in `apis`. */
  defaultType: CredentialType.default('API_KEY'),
  /** Per REST API id: its credential type and the OAuth scopes a client needs to call it. */
  apis: z.record(z.string().min(1), ApiCredentialSettings).default({}),
});
export type CredentialPolicySettings = z.infer<typeof CredentialPolicySettings>;

const jsonText = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
  }).pipe(schema);

const Environment = z.object({
  REGISTRY_TABLE_NAME: z.string().min(1),
  BASIC_AUTH_SECRET_ID: z.string().min(1),
  BASIC_AUTH_REALM: z.string().regex(/^[^"\\]+$/).default('portal-credentials-webhook'),
  BASIC_AUTH_CACHE_SECONDS: seconds(300),
  CREDENTIAL_POLICY: jsonText(CredentialPolicySettings).default({ defaultType: 'API_KEY', apis: {} }),
  USER_POOL_ID: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/).optional(),
  TOKEN_URL: z.url().optional(),
  ACCESS_TOKEN_VALIDITY_MINUTES: z.coerce.number().int().min(5).max(1440).default(60),
  CLAIM_LEASE_SECONDS: seconds(60),
  CLAIM_WAIT_SECONDS: z.coerce.number().min(0).max(25).default(20),
});

export type Config = {
  registryTableName: string;
  basicAuth: { secretId: string; realm: string; cacheSeconds: number };
  credentialPolicy: CredentialPolicySettings;
  /** Present when any API is served with client credentials. */
  cognito?: { userPoolId: string; tokenUrl: string; accessTokenValidityMinutes: number };
  claim: { leaseMs: number; waitMs: number };
};

const usesClientCredentials = (policy: CredentialPolicySettings) =>
  policy.defaultType === 'CLIENT_CREDENTIALS' || Object.values(policy.apis).some((api) => api.type === 'CLIENT_CREDENTIALS');

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
  };
  if (usesClientCredentials(config.credentialPolicy)) {
    if (!e.USER_POOL_ID || !e.TOKEN_URL) {
      throw new Error('Invalid webhook configuration: USER_POOL_ID and TOKEN_URL are required when CREDENTIAL_POLICY uses CLIENT_CREDENTIALS');
    }
    config.cognito = { userPoolId: e.USER_POOL_ID, tokenUrl: e.TOKEN_URL, accessTokenValidityMinutes: e.ACCESS_TOKEN_VALIDITY_MINUTES };
  }
  return config;
};
