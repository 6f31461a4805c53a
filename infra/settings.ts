import { z } from 'zod';
import { isIP } from 'node:net';
import {
  apiKeyHeaderName,
  authenticationSchemes,
  CredentialPolicySettings,
  defaultJwksUrl,
  gatewaySchemes,
  jwksUrlProblem,
  maxJwtMaxTokenAgeSeconds,
  oauthScope,
  userPoolIdPattern,
} from '#commons/config';
import { defaultStackName, deploymentIdPattern, functionDefaults, maxClaimWaitSeconds } from '#commons/defaults';
import { placedUsagePlanId } from './placements.ts';
import { claimLeaseProblem } from './webhook-functions.ts';
import { webhookDefaults } from './webhook-defaults.ts';

/**
 * The deployment's settings, read from the `portalCredentialsWebhook` key of the
 * cdk.json context and validated here, so that a bad value fails `cdk synth` with
 * the field's name instead of failing a deployment or a portal request later.
 */

/** The cdk.json context key the app reads. */
export const SETTINGS_CONTEXT_KEY = 'portalCredentialsWebhook';

/** The values CloudWatch Logs accepts as a retention (9999: never expire). */
const retentionDays = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999];

const Throttling = z.strictObject({
  /** Steady requests per second the stage lets through. */
  rateLimit: z.number().positive().max(10_000).default(webhookDefaults.throttling.rateLimit),
  /** Requests the stage lets through at once. */
  burstLimit: z.number().int().positive().max(5_000).default(webhookDefaults.throttling.burstLimit),
});

const ClientCredentials = z.strictObject({
  /** Import this existing user pool instead of creating one. */
  userPoolId: z.string().regex(userPoolIdPattern, 'must be a user-pool id such as "us-east-1_AbC123"').optional(),
  /** The `<prefix>.auth.<region>.amazoncognito.com` domain; unique per Region across all AWS accounts. */
  domainPrefix: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits or "-", not starting or ending with "-"')
    .refine((prefix) => !/aws|amazon|cognito/.test(prefix), 'must not contain "aws", "amazon" or "cognito"')
    .optional(),
  /** True when the imported pool already has this domain, so the stack must not create it. */
  existingDomain: z.boolean().default(false),
  /** True when the imported pool already has the resource servers the scopes name (a redeploy onto a kept pool). */
  existingResourceServers: z.boolean().default(false),
  /** Lifetime of the access tokens the issued clients get. */
  accessTokenValidityMinutes: z.number().int().min(5).max(1440).default(functionDefaults.accessTokenValidityMinutes),
  /** The pool's quota of app clients, as Service Quotas shows it applied (Cognito's default: 1,000). */
  appClientsQuota: z.number().int().positive().default(functionDefaults.appClientsQuota),
});

const tableName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, "_", "-" or ".")')
  .optional();

const Registry = z
  .strictObject({
    /** Use this existing registry table (the one a torn-down stack kept) instead of creating one. */
    tableName,
    /** That table's stream (`LatestStreamArn`), kept with it: the history is made from it. */
    streamArn: z
      .string()
      .regex(/^arn:[a-z-]+:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]+\/stream\/.+$/, "must be a DynamoDB stream's ARN")
      .optional(),
  })
  .refine((registry) => (registry.tableName === undefined) === (registry.streamArn === undefined), {
    message:
      'tableName and streamArn go together: the kept table keeps its stream, from which the history is made (aws dynamodb describe-table --query Table.LatestStreamArn)',
  });

const SampleApi = z.strictObject({
  /** Deploy the sample protected API (GET /orders with an API key, GET /payments with a token). */
  enabled: z.boolean().default(webhookDefaults.sampleApi),
  /** The scope GET /payments requires; one of the credential policy's scopes. */
  paymentsScope: z.string().optional(),
});

const Claim = z.strictObject({
  /** How long a create holds its claim; longer than the functions' timeout so a running create never loses it. */
  leaseSeconds: z
    .number()
    .int()
    .superRefine((seconds, ctx) => {
      const problem = claimLeaseProblem(seconds);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .max(900)
    .default(functionDefaults.claimLeaseSeconds),
  /** How long a repeated create waits for a concurrent one before answering 409. */
  waitSeconds: z.number().min(0).max(maxClaimWaitSeconds).default(functionDefaults.claimWaitSeconds),
});

/** An IPv4 or IPv6 address, optionally with a prefix length (`203.0.113.0/24`). */
const sourceAddress = z.string().refine((value) => {
  const [address, prefix, ...rest] = value.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}, 'must be an IP address or CIDR block, e.g. "203.0.113.0/24"');

const AccessTokens = z.strictObject({
  /** The tokens' `iss`, exactly as the issuer writes it. */
  issuer: z.url(),
  /** The issuer's JWKS; by default `<issuer>/.well-known/jwks.json`. */
  jwksUrl: z.url().optional(),
  /** Accepted `aud` values. */
  audiences: z.array(z.string().min(1)).default([]),
  /** Accepted client ids (`client_id`, `azp`, `cid` or `appid`). */
  clientIds: z.array(z.string().min(1)).default([]),
  /** How long a function keeps the JWKS (a token naming an unknown key fetches it at once). */
  jwksCacheSeconds: z.number().int().min(60).max(86_400).default(functionDefaults.jwksCacheSeconds),
  /** The longest a token may live (`exp` − `iat`): a token valid for longer is refused. */
  maxTokenAgeSeconds: z.number().int().min(60).max(maxJwtMaxTokenAgeSeconds).default(functionDefaults.jwtMaxTokenAgeSeconds),
});

const Authentication = z.strictObject({
  /** How callers may authenticate; cognito and iam (API Gateway) each stand alone. */
  schemes: z
    .array(z.enum(authenticationSchemes))
    .min(1)
    .default([...functionDefaults.authSchemes])
    .refine((schemes) => new Set(schemes).size === schemes.length, 'must not name a scheme twice')
    .refine(
      (schemes) => !schemes.some((scheme) => gatewaySchemes.includes(scheme)) || schemes.length === 1,
      'cognito and iam are checked by API Gateway, one authorization type per route: each must be the only scheme',
    ),
  /** The header `apiKey` callers send their key in. */
  apiKeyHeader: z
    .string()
    .pipe(
      z.custom<string>((value) => apiKeyHeaderName.safeParse(value).success, 'must be an HTTP header name other than Authorization, without quotes'),
    )
    .default(functionDefaults.apiKeyHeader),
  /** The scope `jwt` and `cognito` tokens must hold. */
  scope: z
    .string()
    .pipe(z.custom<string>((value) => oauthScope.safeParse(value).success, 'must be one OAuth scope (no spaces or quotes)'))
    .default(functionDefaults.scope),
  /** The issuer whose access tokens `jwt` accepts. */
  accessTokens: AccessTokens.optional(),
  /** Lifetime of the `cognito` caller client's access tokens. */
  callerAccessTokenValidityMinutes: z.number().int().min(5).max(1440).default(webhookDefaults.callerAccessTokenValidityMinutes),
  /** `iam`: who may assume the caller role (an account id or an IAM ARN); by default this account's principals. */
  callerPrincipal: z
    .string()
    .regex(
      /^(?:\d{12}|arn:aws[a-z-]*:iam::\d{12}:(?:root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+))$/,
      'must be a 12-digit account id or an IAM role, user or root ARN',
    )
    .optional(),
  /** Source addresses allowed to call the webhook (API Gateway resource policy); empty: any. */
  sourceIpAllowList: z.array(sourceAddress).max(100).default([]),
});

export const Settings = z
  .strictObject({
    stackName: z.string().regex(deploymentIdPattern, 'must be a CloudFormation stack name').default(defaultStackName),
    stageName: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,128}$/, 'must be letters, digits or "_"')
      .default(webhookDefaults.stageName),
    throttling: Throttling.prefault({}),
    logRetentionDays: z
      .number()
      .refine((days) => retentionDays.includes(days), `must be one of ${retentionDays.join(', ')}`)
      .default(webhookDefaults.logRetention),
    /** Exactly what the functions receive as CREDENTIAL_POLICY, validated by the same schema as at cold start. */
    credentialPolicy: z.prefault(CredentialPolicySettings, {}),
    /** Usage plans the portal may link API keys to, besides the sample API's plan; one of another place is `account/region/planId`. */
    usagePlanIds: z
      .array(z.string().regex(placedUsagePlanId, 'must be a usage plan id, or "account/region/planId" for a plan of another place'))
      .max(299, "at most 299: API Gateway allows 300 usage plans per Region, and the sample API's is one")
      .default([]),
    registry: Registry.prefault({}),
    clientCredentials: ClientCredentials.optional(),
    sampleApi: SampleApi.prefault({}),
    claim: Claim.prefault({}),
    /** Per-route API Gateway metrics for the dashboard (billed as custom metrics). */
    detailedMetrics: z.boolean().default(webhookDefaults.detailedMetrics),
    /** Set the Region's API Gateway CloudWatch role, which logging needs; false when the account already has one. */
    configureApiGatewayAccount: z.boolean().default(webhookDefaults.configureApiGatewayAccount),
    /** How callers authenticate to the webhook. */
    authentication: Authentication.prefault({}),
    /** How long the history of changes keeps each entry. */
    history: z
      .strictObject({
        retentionDays: z.number().int().min(1).max(3650).default(functionDefaults.historyRetentionDays),
        /** Record into this existing history table (the one a torn-down stack kept) instead of creating one. */
        tableName,
      })
      .prefault({}),
    /** The scheduled drift audit (report only); `enabled: false` leaves it out of the stack. */
    driftAudit: z
      .strictObject({
        enabled: z.boolean().default(webhookDefaults.driftAudit),
        /** An EventBridge schedule expression. */
        schedule: z
          .string()
          .regex(/^(rate|cron)\(.+\)$/, 'must be an EventBridge schedule such as "rate(1 day)" or "cron(0 6 * * ? *)"')
          .default(webhookDefaults.driftAuditSchedule),
      })
      .prefault({}),
  })
  .superRefine((settings, ctx) => {
    const policy = settings.credentialPolicy;
    const apis = Object.values(policy.apis);
    const usesType = (type: string) => policy.defaultType === type || apis.some((api) => api.type === type);
    const scopes = new Set(apis.flatMap((api) => api.scopes ?? []));

    if (usesType('API_KEY') && settings.usagePlanIds.length === 0 && !settings.sampleApi.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['usagePlanIds'],
        message: 'must name at least one usage plan when API keys are issued and the sample API is disabled',
      });
    }
    // The stack hands the functions the plans of `usagePlanIds` (USAGE_PLAN_IDS); both would fail every cold start.
    if (policy.usagePlanIds !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialPolicy', 'usagePlanIds'],
        message: 'name the usage plans in usagePlanIds, which the stack gives the functions',
      });
    }
    if (settings.clientCredentials && !usesType('CLIENT_CREDENTIALS')) {
      ctx.addIssue({ code: 'custom', path: ['clientCredentials'], message: 'is set, but no API in credentialPolicy uses CLIENT_CREDENTIALS' });
    }
    if (settings.clientCredentials?.existingDomain && !settings.clientCredentials.userPoolId) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCredentials', 'existingDomain'],
        message: 'needs clientCredentials.userPoolId: only an imported pool can already have a domain',
      });
    }
    if (settings.clientCredentials?.existingResourceServers && !settings.clientCredentials.userPoolId) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientCredentials', 'existingResourceServers'],
        message: 'needs clientCredentials.userPoolId: only an imported pool can already have resource servers',
      });
    }
    if (settings.clientCredentials?.existingDomain && !settings.clientCredentials.domainPrefix) {
      ctx.addIssue({ code: 'custom', path: ['clientCredentials', 'domainPrefix'], message: 'is required when existingDomain is true' });
    }
    const authentication = settings.authentication;
    const enabled = (scheme: string) => authentication.schemes.includes(scheme as never);
    if (enabled('jwt') && !authentication.accessTokens) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication', 'accessTokens'],
        message: 'is required when schemes include jwt (the issuer whose tokens are accepted)',
      });
    }
    if (authentication.accessTokens && !enabled('jwt')) {
      ctx.addIssue({ code: 'custom', path: ['authentication', 'accessTokens'], message: 'is set, but schemes do not include jwt' });
    }
    // Deployed functions fetch the signing keys over the internet: only https keeps them from being swapped.
    const tokens = authentication.accessTokens;
    const jwksProblem = tokens && jwksUrlProblem(tokens.jwksUrl ?? defaultJwksUrl(tokens.issuer), { allowLoopbackHttp: false });
    if (tokens && jwksProblem) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication', 'accessTokens', tokens.jwksUrl ? 'jwksUrl' : 'issuer'],
        message: tokens.jwksUrl ? jwksProblem : `${jwksProblem}, or set jwksUrl to an https URL (the JWKS URL defaults under the issuer)`,
      });
    }
    if (authentication.accessTokens && authentication.accessTokens.audiences.length === 0 && authentication.accessTokens.clientIds.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication', 'accessTokens', 'audiences'],
        message: 'or clientIds must name at least one value: otherwise any token of the issuer would do',
      });
    }
    if (enabled('cognito') && !usesType('CLIENT_CREDENTIALS')) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication', 'schemes'],
        message: "cognito uses the stack's user pool, which exists only when some API in credentialPolicy uses CLIENT_CREDENTIALS",
      });
    }
    const webhookServer = authentication.scope.slice(0, authentication.scope.lastIndexOf('/'));
    if (enabled('cognito') && [...scopes].some((scope) => scope.slice(0, scope.lastIndexOf('/')) === webhookServer)) {
      ctx.addIssue({
        code: 'custom',
        path: ['authentication', 'scope'],
        message: `must not use the resource server "${webhookServer}" of the credential policy's scopes`,
      });
    }
    if (enabled('cognito') && !authentication.scope.includes('/')) {
      ctx.addIssue({ code: 'custom', path: ['authentication', 'scope'], message: 'must be "resource-server/scope" with cognito' });
    }
    if (authentication.callerPrincipal && !enabled('iam')) {
      ctx.addIssue({ code: 'custom', path: ['authentication', 'callerPrincipal'], message: 'is set, but schemes do not include iam' });
    }
    const paymentsScope = settings.sampleApi.paymentsScope;
    if (paymentsScope !== undefined && !scopes.has(paymentsScope)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sampleApi', 'paymentsScope'],
        message: `must be one of the credential policy's scopes (${[...scopes].join(', ') || 'none configured'})`,
      });
    }
  });

/** The validated settings, every default filled in. */
export type Settings = z.infer<typeof Settings>;
/** The settings as written (in cdk.json, or in a consumer's code): every field optional where it has a default. */
export type SettingsInput = z.input<typeof Settings>;

/**
 * Parses raw settings: the cdk.json context value, or a consumer's `PortalCredentialsWebhook.fromSettings`.
 * Throws an Error whose message names every bad field by its path (for example `throttling.rateLimit: ...`);
 * `source` says where the settings came from.
 */
export const parseSettings = (raw: unknown, source = `cdk.json context "${SETTINGS_CONTEXT_KEY}"`): Settings => {
  const parsed = Settings.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
  throw new Error(`Invalid settings in ${source}:\n${problems}`);
};
