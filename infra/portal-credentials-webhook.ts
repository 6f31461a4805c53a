import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type * as z from 'zod/mini';
import { CredentialPolicySettings, issuesCredentialType } from '#commons/config';
import { functionDefaults, maxClaimWaitSeconds } from '#commons/defaults';
import { metricsNamespace, requestDimensions } from '#commons/service';
import type { CredentialType } from '#contract/schemas';
import { credentialIdIndex } from '#provisioning/registry';
import { ChangeHistory } from './change-history.ts';
import { addClientCredentialsPool, type ClientCredentialsOptions } from './client-credentials-pool.ts';
import { DriftAudit } from './drift-audit.ts';
import { HistoryStream } from './history-stream.ts';
import { assertEnvironmentFits } from './function-environment.ts';
import { SampleProtectedApi } from './sample-protected-api.ts';
import { type WebhookPlaces, webhookPlaces } from './placements.ts';
import { parseSettings, type SettingsInput } from './settings.ts';
import { webhookPropsFromSettings } from './settings-props.ts';
import { addWebhookApi, configureApiGatewayAccount, type WebhookThrottling } from './webhook-api.ts';
import { WebhookAuthentication, type WebhookAuthenticationOptions } from './webhook-authentication.ts';
import { webhookDefaults } from './webhook-defaults.ts';
import { functionCode } from './function-code.ts';
import { auditPermissionsElsewhere } from './route-permissions.ts';
import {
  addWebhookFunctions,
  routes,
  WEBHOOK_FUNCTION_TIMEOUT_SECONDS,
  claimLeaseProblem,
  type WebhookFunctions,
  webhookRoutes,
} from './webhook-functions.ts';
import { type MonitoredCapacityGauge, WebhookMonitoring } from './webhook-monitoring.ts';

export type { ClientCredentialsOptions } from './client-credentials-pool.ts';
export type { WebhookThrottling } from './webhook-api.ts';
export type { WebhookFunctions } from './webhook-functions.ts';

export interface PortalCredentialsWebhookProps {
  /**
   * The registry table to use instead of creating one: the table a torn-down stack
   * retained, so that the webhook still knows the credentials it issued. It must have
   * the `appKey` partition key and the `byCredentialId` index this construct creates, and its
   * stream (NEW_AND_OLD_IMAGES), from which the history is made: import it with
   * `Table.fromTableAttributes(scope, id, { tableName, tableStreamArn })`.
   *
   * @default - a new table, kept when the stack is deleted
   */
  readonly registryTable?: dynamodb.ITable;
  /**
   * The history table to record into, e.g. the one a torn-down stack kept.
   * @default a new table, retained when the stack is deleted
   */
  readonly historyTable?: dynamodb.ITable;

  /**
   * Which credential type each API gets, and the OAuth scopes of client-credential APIs: the
   * functions' own policy settings (`CREDENTIAL_POLICY`), but for the usage plans, which are
   * `usagePlanIds`. Cognito resources are deployed only when some API uses `CLIENT_CREDENTIALS`.
   * An API of another account or Region says so (`apis[id].account`, `.region`), and a provisioning
   * target (`targets`) must reach its place: Regions of the stack's own account through the functions'
   * own role, another account through the role it provides (`PortalCredentialsTargetRole`).
   *
   * @default - API keys for every API
   */
  readonly credentialPolicy?: Omit<z.input<typeof CredentialPolicySettings>, 'usagePlanIds'>;

  /**
   * The usage plans the portal may link API keys to. The functions may link keys to
   * exactly these plans (plus the sample API's), never to any other plan of the account.
   * A plan of the stack's own place is its bare id; one elsewhere is `account/region/planId`.
   *
   * @default - only the sample API's usage plan
   */
  readonly usagePlanIds?: string[];

  /**
   * The user pool and token endpoint for client credentials; used only when the
   * credential policy issues them.
   *
   * @default - a new user pool and domain
   */
  readonly clientCredentials?: ClientCredentialsOptions;

  /**
   * Whether to deploy the sample protected API that proves issued credentials work.
   *
   * @default true
   */
  readonly sampleApi?: boolean;

  /**
   * The scope the sample API's GET /payments requires; one of the credential policy's scopes.
   *
   * @default - the credential policy's first scope in alphabetical order
   */
  readonly samplePaymentsScope?: string;

  /**
   * The stage the webhook API (and the sample API) are deployed to.
   *
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * Stage-wide rate limits. AWS allows CreateApiKey 5 times a second per account:
   * letting more through only makes the functions wait and retry.
   *
   * @default { rateLimit: 5, burstLimit: 10 }
   */
  readonly throttling?: WebhookThrottling;

  /**
   * How long function and access logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Memory of each function, in MB.
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * How long a create holds its claim on an app; must exceed the functions' timeout.
   *
   * @default Duration.seconds(60)
   */
  readonly claimLease?: Duration;

  /**
   * How long a repeated create waits for a concurrent one before answering 409.
   *
   * @default Duration.seconds(15)
   */
  readonly claimWait?: Duration;

  /**
   * The realm of the Basic challenge (`WWW-Authenticate: Basic realm="..."`).
   *
   * @default 'portal-credentials-webhook'
   */
  readonly basicAuthRealm?: string;

  /**
   * How long a function caches the Basic-auth secret: a new or retired pair takes
   * effect within this time.
   *
   * @default Duration.minutes(5)
   */
  readonly basicAuthCacheTtl?: Duration;

  /**
   * How callers authenticate: Basic, static bearer tokens, an API-key header, OAuth access
   * tokens (any issuer, or the stack's pool through a Cognito authorizer), AWS Signature
   * Version 4, and a source-address allow-list.
   *
   * @default - HTTP Basic only, from any address
   */
  readonly authentication?: WebhookAuthenticationOptions;

  /**
   * Whether the stage publishes per-method metrics (billed as custom metrics) for the
   * dashboard's per-route graphs.
   *
   * @default true
   */
  readonly detailedMetrics?: boolean;

  /**
   * Whether to set the Region's API Gateway CloudWatch role, which access and
   * execution logging need. It is one setting per account and Region: turn this off
   * when the account already has one. The role is retained on stack deletion, since
   * other APIs may rely on it.
   *
   * @default true
   */
  readonly configureApiGatewayAccount?: boolean;

  /**
   * How long the history of changes keeps each entry (DynamoDB's TTL deletes it after).
   *
   * @default Duration.days(365)
   */
  readonly historyRetention?: Duration;

  /**
   * The scheduled drift audit (report only): its schedule, or `enabled: false` to leave it out.
   *
   * @default - daily
   */
  readonly driftAudit?: { readonly enabled?: boolean; readonly schedule?: events.Schedule };

  /**
   * What the alarms do when they fire.
   *
   * @default - the alarms only change state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/**
 * The webhook the Sensedia Developer Portal calls to provision credentials on AWS:
 * a regional REST API with four routes, one bundled function per route with only
 * the permissions its code needs, the registry table, the generated Basic-auth
 * secret, Cognito for client credentials, a sample protected API, alarms and a dashboard.
 */
export class PortalCredentialsWebhook extends Construct {
  /** The webhook's REST API. */
  public readonly api: apigateway.RestApi;

  /** The base URL to register in the portal (the stage's URL, ending with `/`). */
  public readonly url: string;

  /** The function serving each route. */
  public readonly functions: WebhookFunctions;

  /** The registry of issued credentials. Kept when the stack is deleted. */
  public readonly table: dynamodb.ITable;

  /** The Basic-auth pair(s) the portal must present; generated at deployment. */
  public readonly basicAuthSecret: secretsmanager.Secret;

  /** The user pool holding client credentials, when the policy issues them. */
  public readonly userPool?: cognito.IUserPool;

  /** The token endpoint of client credentials, when the policy issues them. */
  public readonly tokenUrl?: string;

  /** The sample protected API, when deployed. */
  public readonly sampleApi?: SampleProtectedApi;

  /** The usage plans the functions may link API keys to. */
  public readonly usagePlanIds: string[];

  /** Where the API keys live: the stack's own place, its account's other Regions, other accounts' roles. */
  public readonly places: WebhookPlaces;

  /** How callers authenticate, and what API Gateway checks for it. */
  public readonly authentication: WebhookAuthentication;

  /** The webhook API's access logs. */
  public readonly accessLogGroup: logs.LogGroup;

  /** The alarms and the dashboard. */
  public readonly monitoring: WebhookMonitoring;

  /** The history of every change. Retained when the stack is deleted. */
  public readonly history: ChangeHistory;

  /** The scheduled drift audit, unless turned off. */
  public readonly driftAudit?: DriftAudit;

  /** What turns every registry change into its history entry: the registry's stream and its consumer. */
  public readonly historyStream: HistoryStream;

  /** The tag `portal-deployment` of the API keys it makes: its stack's name, which tells them from another stack's. */
  public readonly deploymentId: string;

  /** How long a create holds its claim on an app (what `portal-credentials audit` must know). */
  public readonly claimLease: Duration;

  /** How long the history keeps each entry. */
  public readonly historyRetention: Duration;

  /** Whether some API gets API keys (then `usagePlanIds` are linked). */
  public readonly issuesApiKeys: boolean;

  /** Lifetime of issued client credentials' access tokens, when the policy issues them. */
  public readonly accessTokenValidity?: Duration;

  /** The user pool's quota of app clients, which the functions count against. */
  public readonly appClientsQuota: number;

  /**
   * The webhook from settings shaped as cdk.json's `portalCredentialsWebhook` (docs/platform-teams.md, Configure), validated by
   * the same schema with the same messages naming each bad field; tables and a user pool they name are imported into `scope`.
   */
  public static fromSettings(scope: Construct, id: string, settings: SettingsInput = {}): PortalCredentialsWebhook {
    const parsed = parseSettings(settings, `the settings of PortalCredentialsWebhook "${id}"`);
    return new PortalCredentialsWebhook(scope, id, webhookPropsFromSettings(scope, parsed));
  }

  constructor(scope: Construct, id: string, props: PortalCredentialsWebhookProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const claimLease = props.claimLease ?? Duration.seconds(functionDefaults.claimLeaseSeconds);
    this.claimLease = claimLease;
    this.deploymentId = stack.stackName;
    this.historyRetention = props.historyRetention ?? Duration.days(functionDefaults.historyRetentionDays);
    const claimWait = props.claimWait ?? Duration.seconds(functionDefaults.claimWaitSeconds);
    const realm = props.basicAuthRealm ?? functionDefaults.basicAuthRealm;
    const stageName = props.stageName ?? webhookDefaults.stageName;
    const logRetention = props.logRetention ?? webhookDefaults.logRetention;
    const detailedMetrics = props.detailedMetrics ?? webhookDefaults.detailedMetrics;

    this.appClientsQuota = props.clientCredentials?.appClientsQuota ?? functionDefaults.appClientsQuota;
    if (!Number.isSafeInteger(this.appClientsQuota) || this.appClientsQuota < 1) {
      throw new Error(`clientCredentials.appClientsQuota (${this.appClientsQuota}) must be a positive whole number`);
    }
    const leaseProblem = claimLeaseProblem(claimLease.toSeconds());
    if (leaseProblem) throw new Error(`claimLease (${claimLease.toSeconds()} s) ${leaseProblem}`);
    // The functions refuse a longer wait at cold start (lambda/commons/config.ts): refuse it at synth instead.
    if (claimWait.toSeconds() > maxClaimWaitSeconds) {
      throw new Error(
        `claimWait (${claimWait.toSeconds()} s) must be at most ${maxClaimWaitSeconds} s, well within the functions' timeout (${WEBHOOK_FUNCTION_TIMEOUT_SECONDS} s)`,
      );
    }
    // The realm is quoted inside a quoted gateway-response header value.
    if (!/^[\w .-]+$/.test(realm)) throw new Error('basicAuthRealm may hold only letters, digits, spaces, ".", "-" and "_"');
    const policy = validatedPolicy(props.credentialPolicy);
    const issues = (type: CredentialType) => issuesCredentialType(policy, type);
    this.issuesApiKeys = issues('API_KEY');
    const scopes = [...new Set(Object.values(policy.apis).flatMap((api) => api.scopes ?? []))].sort();

    // What the functions keep: the registry, the history, the accepted Basic pairs.
    this.table = props.registryTable ?? this.createRegistryTable();
    if (!this.table.tableStreamArn) {
      throw new Error(
        'registryTable must come with its stream (NEW_AND_OLD_IMAGES), from which the history is made: import it with Table.fromTableAttributes(scope, id, { tableName, tableStreamArn })',
      );
    }
    this.history = new ChangeHistory(this, 'History', props.historyTable);
    this.basicAuthSecret = this.createBasicAuthSecret();

    // Cognito, when some API gets client credentials.
    if (issues('CLIENT_CREDENTIALS')) {
      const pool = addClientCredentialsPool(this, props.clientCredentials ?? {}, scopes);
      this.tokenUrl = pool.tokenUrl;
      this.userPool = pool.userPool;
      this.accessTokenValidity = props.clientCredentials?.accessTokenValidity ?? Duration.minutes(functionDefaults.accessTokenValidityMinutes);
    }

    if (props.sampleApi ?? webhookDefaults.sampleApi) {
      const paymentsScope = this.userPool ? (props.samplePaymentsScope ?? scopes[0]) : undefined;
      if (paymentsScope !== undefined && !scopes.includes(paymentsScope)) {
        throw new Error(`samplePaymentsScope "${paymentsScope}" is not one of the credential policy's scopes`);
      }
      this.sampleApi = new SampleProtectedApi(this, 'SampleApi', {
        stageName,
        logRetention,
        ...(this.userPool && paymentsScope ? { userPool: this.userPool, paymentsScope } : {}),
      });
    }

    this.authentication = new WebhookAuthentication(this, 'Authentication', {
      ...props.authentication,
      realm,
      ...(this.userPool ? { userPool: this.userPool } : {}),
    });

    this.usagePlanIds = [...(props.usagePlanIds ?? []), ...(this.sampleApi ? [this.sampleApi.usagePlan.usagePlanId] : [])];
    if (issues('API_KEY') && this.usagePlanIds.length === 0) {
      throw new Error('usagePlanIds must name at least one usage plan when API keys are issued and the sample API is not deployed');
    }
    this.places = webhookPlaces(stack, policy, this.usagePlanIds);
    const apiKeys = issues('API_KEY')
      ? {
          partition: stack.partition,
          region: stack.region,
          usagePlanIds: this.places.homePlanIds,
          otherRegions: this.places.ownRegions,
          roleArns: this.places.roleArns,
        }
      : undefined;

    // The functions, one per route.
    const environment = this.functionEnvironment(props, { realm, claimLease, claimWait, linkableUsagePlans: issues('API_KEY') });
    assertEnvironmentFits(environment);
    this.functions = addWebhookFunctions(this, {
      environment,
      policy,
      resources: {
        basicAuthSecretArn: this.basicAuthSecret.secretArn,
        tableArn: this.table.tableArn,
        credentialIdIndexArn: `${this.table.tableArn}/index/${credentialIdIndex}`,
        ...(apiKeys ? { apiKeys } : {}),
        ...(this.userPool ? { userPoolArn: this.userPool.userPoolArn } : {}),
      },
      memorySize: props.memorySize ?? webhookDefaults.memorySize,
      logRetention,
    });
    for (const changing of [this.functions.create, this.functions.update, this.functions.revoke]) this.history.grantRecord(changing);

    // The API in front of them.
    const webhookApi = addWebhookApi(this, {
      functions: this.functions,
      authentication: this.authentication,
      stageName,
      throttling: props.throttling ?? webhookDefaults.throttling,
      logRetention,
      detailedMetrics,
    });
    this.accessLogGroup = webhookApi.accessLogGroup;
    this.api = webhookApi.api;
    this.url = this.api.url;
    if (props.configureApiGatewayAccount ?? webhookDefaults.configureApiGatewayAccount) {
      configureApiGatewayAccount(this, [this.api, ...(this.sampleApi ? [this.sampleApi.api] : [])]);
    }

    // Monitoring: alarms, the dashboard and the scheduled drift audit.
    this.monitoring = new WebhookMonitoring(this, 'Monitoring', {
      api: this.api,
      routes: webhookRoutes.map((route) => ({
        name: routes[route].name,
        method: routes[route].method,
        path: `/v1/${routes[route].path}`,
        function: this.functions[route],
      })),
      metricsNamespace,
      // Powertools adds `service` to every metric.
      requestDimensions: ['service', ...requestDimensions],
      dashboardName: `${stack.stackName}-webhook`,
      detailedMetrics,
      capacityGauges: this.capacityGauges(policy),
      ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}),
    });
    this.historyStream = new HistoryStream(this, 'HistoryStream', {
      code: functionCode(this, 'record-history', policy),
      registry: this.table,
      history: this.history,
      retentionDays: this.historyRetention.toDays(),
      logRetention,
      ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}),
    });
    if (props.driftAudit?.enabled ?? webhookDefaults.driftAudit) {
      this.driftAudit = new DriftAudit(this, 'DriftAudit', {
        environment,
        code: functionCode(this, 'audit', policy),
        registry: this.table,
        // Its own role reads its own Region; the other places are added below.
        ...(apiKeys && apiKeys.usagePlanIds.length > 0 ? { usagePlanIds: apiKeys.usagePlanIds } : {}),
        ...(this.userPool ? { userPoolArn: this.userPool.userPoolArn } : {}),
        schedule: props.driftAudit?.schedule ?? Schedule.expression(webhookDefaults.driftAuditSchedule),
        logRetention,
        dashboard: this.monitoring.dashboard,
        ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}),
      });
      if (apiKeys) for (const statement of auditPermissionsElsewhere(apiKeys)) this.driftAudit.function.addToRolePolicy(statement);
    }
  }

  /**
   * The quotas the functions publish (lambda/provisioning/capacity.ts): API keys, and the plans one key is granted, in
   * each place they make keys; app clients, and the scopes one client is granted, in the pool.
   */
  private capacityGauges(policy: CredentialPolicySettings): MonitoredCapacityGauge[] {
    const stack = Stack.of(this);
    const home = `${stack.account}/${stack.region}`;
    const elsewhere = (policy.targets ?? []).flatMap((target) => target.regions.map((region) => `${target.account ?? stack.account}/${region}`));
    const apiKeyPlaces = this.issuesApiKeys ? [...new Set([home, ...elsewhere])] : [];
    return [
      ...apiKeyPlaces.flatMap((place) => [
        { quota: 'apiKeys' as const, place },
        { quota: 'usagePlansPerKey' as const, place },
      ]),
      ...(this.userPool
        ? [
            { quota: 'appClients' as const, place: this.userPool.userPoolId },
            { quota: 'scopesPerClient' as const, place: this.userPool.userPoolId },
          ]
        : []),
    ];
  }

  /** What every function reads at cold start (lambda/commons/config.ts), but the credential policy, which is in a file beside the bundle. */
  private functionEnvironment(
    props: PortalCredentialsWebhookProps,
    settings: { realm: string; claimLease: Duration; claimWait: Duration; linkableUsagePlans: boolean },
  ): Record<string, string> {
    const environment: Record<string, string> = {
      // API keys carry it: another stack in the account and Region never takes them for its own.
      DEPLOYMENT_ID: this.deploymentId,
      // The webhook's own account: APIs the policy places nowhere else live there (CloudFormation resolves an environment-agnostic stack's).
      DEPLOYMENT_ACCOUNT_ID: Stack.of(this).account,
      REGISTRY_TABLE_NAME: this.table.tableName,
      BASIC_AUTH_SECRET_ID: this.basicAuthSecret.secretArn,
      BASIC_AUTH_REALM: settings.realm,
      BASIC_AUTH_CACHE_SECONDS: String((props.basicAuthCacheTtl ?? Duration.seconds(functionDefaults.basicAuthCacheSeconds)).toSeconds()),
      // The usage plans the role may link, so that any other plan is refused with 422 before AWS is called.
      ...(settings.linkableUsagePlans ? { USAGE_PLAN_IDS: this.usagePlanIds.join(',') } : {}),
      CLAIM_LEASE_SECONDS: String(settings.claimLease.toSeconds()),
      CLAIM_WAIT_SECONDS: String(settings.claimWait.toSeconds()),
      HISTORY_TABLE_NAME: this.history.table.tableName,
      HISTORY_RETENTION_DAYS: String(this.historyRetention.toDays()),
      ...this.authentication.environment,
    };
    if (this.userPool && this.tokenUrl && this.accessTokenValidity) {
      environment.USER_POOL_ID = this.userPool.userPoolId;
      environment.TOKEN_URL = this.tokenUrl;
      environment.ACCESS_TOKEN_VALIDITY_MINUTES = String(this.accessTokenValidity.toMinutes());
      environment.APP_CLIENTS_QUOTA = String(this.appClientsQuota);
    }
    return environment;
  }

  private createRegistryTable(): dynamodb.Table {
    const table = new dynamodb.Table(this, 'Registry', {
      partitionKey: { name: 'appKey', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Every change, with its writer's lastChange, for the history (HistoryStream).
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The proof of which credentials the webhook owns outlives the stack (a redeploy imports it),
      // but not a first deployment that rolls back: it would hold nothing.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    table.addGlobalSecondaryIndex({
      indexName: credentialIdIndex,
      partitionKey: { name: 'credentialId', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    return table;
  }

  private createBasicAuthSecret(): secretsmanager.Secret {
    return new secretsmanager.Secret(this, 'BasicAuthSecret', {
      description: 'Basic-auth pair(s) the Sensedia Developer Portal presents to the credentials webhook: {"username","password"} or a list of them',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'portal' }),
        generateStringKey: 'password',
        // Pasted into the portal's form: letters and digits only, long enough to need no more.
        excludePunctuation: true,
        includeSpace: false,
        passwordLength: 40,
      },
    });
  }
}

/** The policy as the functions will read it, validated by the same schema they validate CREDENTIAL_POLICY with at cold start. */
const validatedPolicy = (raw: PortalCredentialsWebhookProps['credentialPolicy']): CredentialPolicySettings => {
  const parsed = CredentialPolicySettings.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `credentialPolicy.${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid credential policy: ${problems.join('; ')}`);
  }
  if (Token.isUnresolved(JSON.stringify(parsed.data))) {
    throw new Error("credentialPolicy is built into the functions' bundles at synth: its REST API ids and scopes must be plain strings, not tokens");
  }
  return parsed.data;
};
