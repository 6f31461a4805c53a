import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * The construct's defaults for what only the stack decides; the cdk.json settings (settings.ts)
 * default to the same. What the functions read defaults to `functionDefaults` (lambda/commons/defaults.ts).
 */
export const webhookDefaults = {
  /** The stage of the webhook and sample APIs. */
  stageName: 'prod',
  /** AWS allows CreateApiKey 5 times a second per account: letting more through only makes the functions wait and retry. */
  throttling: { rateLimit: 5, burstLimit: 10 },
  /** Function and access logs. */
  logRetention: RetentionDays.ONE_MONTH,
  /**
   * Memory of each function, in MB. Lambda gives CPU in proportion to memory: 512 MB keeps cold starts
   * (bundled SDK clients, zod schemas), which the portal's user waits for, short, at a cost that stays
   * negligible for a few portal calls a day.
   */
  memorySize: 512,
  sampleApi: true,
  detailedMetrics: true,
  configureApiGatewayAccount: true,
  driftAudit: true,
  /** An EventBridge schedule expression. */
  driftAuditSchedule: 'rate(1 day)',
  /** Lifetime of the `cognito` caller client's access tokens. */
  callerAccessTokenValidityMinutes: 60,
} as const;
