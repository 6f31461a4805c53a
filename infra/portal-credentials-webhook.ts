import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CredentialPolicySettings, issues as policyIssues } from '#commons/config';
import { metricsNamespace, requestDimensions } from '#commons/service';
import { gatewayErrors } from '#contract/gateway-responses';
import type { CredentialType } from '#contract/schemas';
import { credentialIdIndex } from '#provisioning/registry';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type * as events from 'aws-cdk-lib/aws-events';
import { jsonAccessLogFormat } from './access-log-format.ts';
import { defaultDomainPrefix, type ResourceServerPlan, resourceServersFor } from './cognito-names.ts';
import { manageExecutionLogs } from './execution-logs.ts';
import { assertEnvironmentFits } from './function-environment.ts';
import { ChangeHistory } from './change-history.ts';
import { DriftAudit } from './drift-audit.ts';
import { functionBundling } from './function-bundling.ts';
import { routePermissions, type WebhookRoute } from './route-permissions.ts';
import { SampleProtectedApi } from './sample-protected-api.ts';
import { WebhookAuthentication, type WebhookAuthenticationOptions } from './webhook-authentication.ts';
import { WebhookMonitoring } from './webhook-monitoring.ts';

/**
 * The functions' timeout. API Gateway gives up after 29 s; a create may wait up to
 * CLAIM_WAIT_SECONDS for a concurrent one and retries throttled AWS calls, so it
 * gets all the time it can while still answering the portal itself.
 */
export const WEBHOOK_FUNCTION_TIMEOUT_SECONDS = 25;


/** How credentials for one REST API are issued. */
export interface ApiCredentialPolicy {
  /**
   * The credential type for this API.
   *
   * @default - the policy's `defaultType`
   */
  readonly type?: CredentialType;

  /**
   * The OAuth scopes (`resource-server-id/scope-name`) a client needs to call this API.
   * Each resource server named here is created on the user pool with these scopes.
   *
   * @default - none: client credentials cannot be issued for this API
   */
  readonly scopes?: string[];
}

/** Which credential type each REST API gets. */
export interface CredentialPolicy {
  /**
   * The credential type of APIs not listed in `apis`.
   *
   * @default 'API_KEY'
   */
  readonly defaultType?: CredentialType;

  /**
   * Per REST API id, its credential type and scopes.
   *
   * @default {}
   */
  readonly apis?: Record<string, ApiCredentialPolicy>;
}

/** Where client credentials live and how their tokens are fetched. */
export interface ClientCredentialsOptions {
  /**
   * The user pool the app clients are created in: for example the pool a torn-down stack
   * retained. The stack adds the domain (unless `existingDomain`) and the resource servers
   * the scopes name (unless `existingResourceServers`).
   *
   * @default - a new user pool with no users, kept when the stack is deleted
   */
  readonly userPool?: cognito.IUserPool;

  /**
   * The prefix of the pool's `<prefix>.auth.<region>.amazoncognito.com` domain,
   * whose `/oauth2/token` endpoint issues the tokens. Unique per Region across all accounts.
   * A pool has one such domain: changing the prefix of a deployed stack fails (CloudFormation
   * creates the new domain before the old one goes) unless the old domain is deleted first.
   *
   * @default - the stack name and the account id, e.g. 'portalcredentialswebhook-123456789012'
   */
  readonly domainPrefix?: string;

  /**
   * Whether `userPool` already has the `domainPrefix` domain, so it must not be created.
   *
   * @default false
   */
  readonly existingDomain?: boolean;

  /**
   * Whether `userPool` already has the resource servers the scopes name (a redeploy onto a
   * retained pool), so they must not be created.
   *
   * @default false
   */
  readonly existingResourceServers?: boolean;

  /**
   * How long the issued clients' access tokens are valid (5 minutes to 1 day).
   *
   * @default Duration.minutes(60)
   */
  readonly accessTokenValidity?: Duration;
}

/** Request rate limits of the webhook's stage. */
export interface WebhookThrottling {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests at once. */
  readonly burstLimit: number;
}

export interface PortalCredentialsWebhookProps {
  /**
   * The registry table to use instead of creating one: the table a torn-down stack
   * retained, so that the webhook still knows the credentials it issued. It must have
   * the `appKey` partition key and the `byCredentialId` index this construct creates.
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
   * Which credential type each API gets, and the OAuth scopes of client-credential APIs.
   * Cognito resources are deployed only when some API uses `CLIENT_CREDENTIALS`.
   *
   * @default - API keys for every API
   */
  readonly credentialPolicy?: CredentialPolicy;

  /**
   * The usage plans the portal may link API keys to. The functions may link keys to
   * exactly these plans (plus the sample API's), never to any other plan of the account.
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

/** The four functions, one per route. */
export interface WebhookFunctions {
  readonly create: NodejsFunction;
  readonly update: NodejsFunction;
  readonly revoke: NodejsFunction;
  readonly health: NodejsFunction;
}

interface RouteDefinition {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly entry: string;
  readonly description: string;
}

/** The contract's routes, each served by the handler file of the same name. */
const routes: Record<WebhookRoute, RouteDefinition> = {
  create: { name: 'CreateCredentials', method: 'POST', path: 'createCredentials', entry: 'create-credentials.ts', description: 'creates an app credential' },
  update: { name: 'UpdateCredentials', method: 'POST', path: 'updateCredentials', entry: 'update-credentials.ts', description: 'regrants an app credential' },
  revoke: { name: 'RevokeCredentials', method: 'POST', path: 'revokeCredentials', entry: 'revoke-credentials.ts', description: 'revokes an app credential' },
  health: { name: 'Health', method: 'GET', path: 'health', entry: 'health.ts', description: 'checks the webhook can authenticate the portal' },
};

const repoFile = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** The contract's error body, as a gateway-response template. */
const errorTemplate = (body: { code: string; message: string }) => JSON.stringify(body);

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

  constructor(scope: Construct, id: string, props: PortalCredentialsWebhookProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const timeout = Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS);
    const claimLease = props.claimLease ?? Duration.seconds(60);
    const claimWait = props.claimWait ?? Duration.seconds(15);
    const realm = props.basicAuthRealm ?? 'portal-credentials-webhook';
    const stageName = props.stageName ?? 'prod';
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    if (claimLease.toSeconds() <= timeout.toSeconds()) {
      throw new Error(`claimLease (${claimLease.toSeconds()} s) must exceed the functions' timeout (${timeout.toSeconds()} s)`);
    }
    if (claimWait.toSeconds() >= timeout.toSeconds()) {
      throw new Error(`claimWait (${claimWait.toSeconds()} s) must be shorter than the functions' timeout (${timeout.toSeconds()} s)`);
    }
    // The realm is quoted inside a quoted gateway-response header value.
    if (!/^[\w .-]+$/.test(realm)) throw new Error('basicAuthRealm may hold only letters, digits, spaces, ".", "-" and "_"');

    // The same schema the functions validate CREDENTIAL_POLICY with at cold start.
    const parsedPolicy = CredentialPolicySettings.safeParse(props.credentialPolicy ?? {});
    if (!parsedPolicy.success) {
      const problems = parsedPolicy.error.issues.map((issue) => `credentialPolicy.${issue.path.join('.')}: ${issue.message}`);
      throw new Error(`Invalid credential policy: ${problems.join('; ')}`);
    }
    const policy = parsedPolicy.data;
    if (Token.isUnresolved(JSON.stringify(policy))) {
      throw new Error('credentialPolicy is built into the functions\' bundles at synth: its REST API ids and scopes must be plain strings, not tokens');
    }
    const apiPolicies = Object.values(policy.apis);
    const issues = (type: CredentialType) => policyIssues(policy, type);
    const scopes = [...new Set(apiPolicies.flatMap((api) => api.scopes ?? []))].sort();

    this.table = props.registryTable ?? this.createRegistryTable();

    this.history = new ChangeHistory(this, 'History', props.historyTable);

    this.basicAuthSecret = new secretsmanager.Secret(this, 'BasicAuthSecret', {
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

    if (issues('CLIENT_CREDENTIALS')) {
      const options = props.clientCredentials ?? {};
      const userPool = options.userPool ?? this.createUserPool();
      const domainPrefix = options.domainPrefix ?? defaultDomainPrefix(stack.stackName, stack.account);
      if (options.existingDomain) {
        this.tokenUrl = `https://${domainPrefix}.auth.${stack.region}.amazoncognito.com/oauth2/token`;
      } else {
        const domain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });
        // Every issued client's token URL: it stays with the pool.
        domain.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
        this.tokenUrl = `${domain.baseUrl()}/oauth2/token`;
      }
      const servers = resourceServersFor(scopes);
      if (!options.existingResourceServers) this.addResourceServers(userPool, servers);
      this.userPool = userPool;
    }

    if (props.sampleApi ?? true) {
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

    this.authentication = new WebhookAuthentication(this, 'Authentication', { ...props.authentication, realm, ...(this.userPool ? { userPool: this.userPool } : {}) });

    this.usagePlanIds = [...(props.usagePlanIds ?? []), ...(this.sampleApi ? [this.sampleApi.usagePlan.usagePlanId] : [])];
    if (issues('API_KEY') && this.usagePlanIds.length === 0) {
      throw new Error('usagePlanIds must name at least one usage plan when API keys are issued and the sample API is not deployed');
    }

    const environment: Record<string, string> = {
      REGISTRY_TABLE_NAME: this.table.tableName,
      BASIC_AUTH_SECRET_ID: this.basicAuthSecret.secretArn,
      BASIC_AUTH_REALM: realm,
      BASIC_AUTH_CACHE_SECONDS: String((props.basicAuthCacheTtl ?? Duration.minutes(5)).toSeconds()),
      // The usage plans the role may link, so that any other plan is refused with 422 before AWS is called.
      ...(issues('API_KEY') ? { USAGE_PLAN_IDS: this.usagePlanIds.join(',') } : {}),
      CLAIM_LEASE_SECONDS: String(claimLease.toSeconds()),
      CLAIM_WAIT_SECONDS: String(claimWait.toSeconds()),
      HISTORY_TABLE_NAME: this.history.table.tableName,
      HISTORY_RETENTION_DAYS: String((props.historyRetention ?? Duration.days(365)).toDays()),
      ...this.authentication.environment,
    };
    if (this.userPool && this.tokenUrl) {
      environment.USER_POOL_ID = this.userPool.userPoolId;
      environment.TOKEN_URL = this.tokenUrl;
      environment.ACCESS_TOKEN_VALIDITY_MINUTES = String((props.clientCredentials?.accessTokenValidity ?? Duration.minutes(60)).toMinutes());
    }
    assertEnvironmentFits(environment);
    // The policy grows with the portal's APIs (about 80 bytes each), so it is built into the bundle
    // (read by lambda/commons/settings.ts) rather than set in the 4 KB environment.
    const bundling = { ...functionBundling, define: { BUNDLED_CREDENTIAL_POLICY: JSON.stringify(JSON.stringify(policy)) } };

    const resources = {
      basicAuthSecretArn: this.basicAuthSecret.secretArn,
      tableArn: this.table.tableArn,
      credentialIdIndexArn: `${this.table.tableArn}/index/${credentialIdIndex}`,
      ...(issues('API_KEY') ? { apiKeys: { partition: stack.partition, region: stack.region, usagePlanIds: this.usagePlanIds } } : {}),
      ...(this.userPool ? { userPoolArn: this.userPool.userPoolArn } : {}),
    };
    const makeFunction = (route: WebhookRoute) => {
      const definition = routes[route];
      const role = new iam.Role(this, `${definition.name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Portal credentials webhook, ${definition.path}: only the calls its code makes`,
      });
      for (const statement of routePermissions(route, resources)) role.addToPolicy(statement);
      const logGroup = new logs.LogGroup(this, `${definition.name}Logs`, { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
      // Instead of AWSLambdaBasicExecutionRole (any log group): write to this one only.
      logGroup.grantWrite(role);
      return new NodejsFunction(this, `${definition.name}Function`, {
        description: `Portal credentials webhook: ${definition.description}`,
        entry: repoFile(`lambda/handlers/${definition.entry}`),
        handler: 'handler',
        projectRoot: repoFile(''),
        depsLockFilePath: repoFile('package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        // Lambda gives CPU in proportion to memory: 512 MB keeps cold starts (bundled
        // SDK clients, zod schemas), which the portal's user waits for, short, at a cost
        // that stays negligible for a few portal calls a day.
        memorySize: props.memorySize ?? 512,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        logGroup,
        environment,
        bundling,
      });
    };
    this.functions = { create: makeFunction('create'), update: makeFunction('update'), revoke: makeFunction('revoke'), health: makeFunction('health') };
    for (const changing of [this.functions.create, this.functions.update, this.functions.revoke]) this.history.grantRecord(changing);

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const throttling = props.throttling ?? { rateLimit: 5, burstLimit: 10 };
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-webhook`,
      description: 'Credentials webhook of the Sensedia Developer Portal',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // The account's CloudWatch role is set below, once, for both APIs.
      cloudWatchRole: false,
      deployOptions: {
        stageName,
        throttlingRateLimit: throttling.rateLimit,
        throttlingBurstLimit: throttling.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: jsonAccessLogFormat(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Never log bodies: createCredentials answers with the secret.
        dataTraceEnabled: false,
        metricsEnabled: props.detailedMetrics ?? true,
        tracingEnabled: true,
      },
    });
    this.url = this.api.url;
    manageExecutionLogs(this, this.api, stageName, logRetention);
    // RestApi adds an unnamed Endpoint output to the stack; outputs are the stack's choice.
    this.api.node.tryRemoveChild('Endpoint');

    // Bodies have no model: the functions validate them and answer with the contract's details.
    // Parameters are checked: a request without an Authorization header never reaches a function.
    const validator = this.api.addRequestValidator('RequestValidator', { validateRequestBody: true, validateRequestParameters: true });
    const v1 = this.api.root.addResource('v1');
    for (const route of Object.keys(routes) as WebhookRoute[]) {
      const definition = routes[route];
      v1.addResource(definition.path).addMethod(definition.method, new apigateway.LambdaIntegration(this.functions[route], { allowTestInvoke: false }), {
        operationName: definition.path,
        requestValidator: validator,
        ...this.authentication.methodOptions,
      });
    }
    this.addGatewayResponses();
    this.authentication.protect(this.api);

    if (props.configureApiGatewayAccount ?? true) this.configureApiGatewayAccount();

    this.monitoring = new WebhookMonitoring(this, 'Monitoring', {
      api: this.api,
      routes: (Object.keys(routes) as WebhookRoute[]).map((route) => ({
        name: routes[route].name,
        method: routes[route].method,
        path: `/v1/${routes[route].path}`,
        function: this.functions[route],
      })),
      metricsNamespace,
      // Powertools adds `service` to every metric.
      requestDimensions: ['service', ...requestDimensions],
      dashboardName: `${stack.stackName}-webhook`,
      detailedMetrics: props.detailedMetrics ?? true,
      ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}),
    });

    if (props.driftAudit?.enabled ?? true) {
      this.driftAudit = new DriftAudit(this, 'DriftAudit', {
        environment,
        registry: this.table,
        ...(issues('API_KEY') ? { usagePlanIds: this.usagePlanIds } : {}),
        ...(this.userPool ? { userPoolArn: this.userPool.userPoolArn } : {}),
        schedule: props.driftAudit?.schedule ?? Schedule.rate(Duration.days(1)),
        logRetention,
        dashboard: this.monitoring.dashboard,
        ...(props.alarmAction ? { alarmAction: props.alarmAction } : {}),
      });
    }
  }

  private createRegistryTable(): dynamodb.Table {
    const table = new dynamodb.Table(this, 'Registry', {
      partitionKey: { name: 'appKey', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
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

  private createUserPool(): cognito.UserPool {
    return new cognito.UserPool(this, 'UserPool', {
      // Machine-to-machine only: no one signs up or signs in.
      selfSignUpEnabled: false,
      accountRecovery: cognito.AccountRecovery.NONE,
      // M2M tokens are billed separately; nothing of the paid plans serves app clients.
      featurePlan: cognito.FeaturePlan.LITE,
      // No user has a password; a strict policy costs nothing should one ever be added.
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      deletionProtection: true,
      // Deleting the pool would revoke every issued client at once; a first deployment that
      // rolls back holds no client, so it goes.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }

  /** The resource servers the scopes name, kept with the pool: issued clients' tokens carry their scopes. */
  private addResourceServers(userPool: cognito.IUserPool, servers: readonly ResourceServerPlan[]) {
    for (const { id, identifier, name, scopeNames } of servers) {
      const server = userPool.addResourceServer(id, {
        identifier,
        userPoolResourceServerName: name,
        scopes: scopeNames.map((scopeName) => new cognito.ResourceServerScope({ scopeName, scopeDescription: `${scopeName} on ${identifier}, granted to apps by the portal` })),
      });
      server.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    }
  }

  /** Answers API Gateway gives itself, in the contract's error shape. */
  private addGatewayResponses() {
    const { ResponseType } = apigateway;
    const json = (body: string) => ({ 'application/json': body });
    const challenge = { 'WWW-Authenticate': `'${this.authentication.challenge}'` };
    const unauthorized = json(errorTemplate({ code: 'UNAUTHORIZED', message: this.authentication.unauthorizedMessage }));
    const responses: Record<string, apigateway.GatewayResponseOptions> = {
      Unauthorized: { type: ResponseType.UNAUTHORIZED, statusCode: '401', responseHeaders: challenge, templates: unauthorized },
      // The only required parameter is the Authorization header: missing it means missing credentials.
      MissingCredentials: { type: ResponseType.BAD_REQUEST_PARAMETERS, statusCode: '401', responseHeaders: challenge, templates: unauthorized },
      AccessDenied: {
        type: ResponseType.ACCESS_DENIED,
        statusCode: '403',
        templates: json(errorTemplate(gatewayErrors.accessDenied)),
      },
      // API Gateway answers an unknown route or method with 403 "Missing Authentication Token".
      NotFound: {
        type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
        statusCode: '404',
        templates: json(errorTemplate(gatewayErrors.notFound(Object.values(routes).map((r) => `/v1/${r.path}`)))),
      },
      Throttled: {
        type: ResponseType.THROTTLED,
        statusCode: '429',
        responseHeaders: { 'Retry-After': "'1'" },
        templates: json(errorTemplate(gatewayErrors.throttled)),
      },
      // AWS documents that this one is not customisable yet: over 10 MB, API Gateway answers its own text.
      RequestTooLarge: {
        type: ResponseType.REQUEST_TOO_LARGE,
        statusCode: '413',
        templates: json(errorTemplate(gatewayErrors.payloadTooLarge)),
      },
      // Fixed messages: API Gateway's own text is not for the portal (the contract promises no AWS error text).
      Default4xx: {
        type: ResponseType.DEFAULT_4XX,
        templates: json(errorTemplate(gatewayErrors.refused)),
      },
      // Integration time-outs (504) land here too.
      Default5xx: {
        type: ResponseType.DEFAULT_5XX,
        templates: json(errorTemplate(gatewayErrors.failure)),
      },
    };
    for (const [id, options] of Object.entries({ ...responses, ...this.authentication.gatewayResponses })) this.api.addGatewayResponse(id, options);
  }

  /**
   * Sets the Region's API Gateway CloudWatch role, without which stages cannot log.
   * The AWS-managed policy is the one made for this account-wide role: other APIs of
   * the account log through it too, so it is neither narrowed nor deleted with the stack.
   */
  private configureApiGatewayAccount() {
    const role = new iam.Role(this, 'ApiGatewayCloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    // Kept by a teardown (other APIs log through it), not by a first deployment that rolls back.
    role.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    this.api.deploymentStage.node.addDependency(account);
    this.sampleApi?.api.deploymentStage.node.addDependency(account);
  }
}
