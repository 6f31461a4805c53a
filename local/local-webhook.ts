import { readFile } from 'node:fs/promises';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, CreateUserPoolClientCommand, CreateUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { CredentialPolicySettings } from '#commons/config';
import { functionDefaults } from '#commons/defaults';
import {
  type ApiGatewaySeed,
  type AwsControlPlane,
  type ControlPlaneSeed,
  type LocalRole,
  type PlaceId,
  startAwsControlPlane,
} from './stand-ins/aws-control-plane.ts';
import { startCognitoLocal } from './stand-ins/cognito-local.ts';
import { type CognitoProxy, startCognitoProxy } from './stand-ins/cognito-proxy.ts';
import { startCognitoTokenEndpoint } from './stand-ins/cognito-token-endpoint.ts';
import { startDynamoDbStream } from './stand-ins/dynamodb-stream.ts';
import { startHttpBridge } from './http-bridge.ts';
import { createHistoryTable } from './history-table.ts';
import { startLocalSampleApi } from './sample-api.ts';
import { createRegistryTable, startLocalDynamoDb } from './registry-table.ts';

export interface LocalWebhookOptions {
  host?: string;
  port?: number;
  /** Basic pairs the webhook accepts; the first is the one printed. */
  basicCredentials: { username: string; password: string }[];
  seed?: ControlPlaneSeed;
  /** Which APIs get which credential type; default: `localCredentialPolicy`. */
  credentialPolicy?: CredentialPolicySettings;
  /** Static bearer tokens and API keys the secret also holds, by id (the `bearer` and `apiKey` schemes). */
  bearerTokens?: { id: string; token: string }[];
  apiKeys?: { id: string; key: string }[];
  /** Extra environment for the functions (e.g. CREDENTIAL_POLICY, AUTH_SCHEMES), set before they load. */
  environment?: Record<string, string>;
}

export interface LocalWebhook {
  url: string;
  controlPlane: AwsControlPlane;
  /** What the functions reach Cognito through: cognito-local behind the checks it lacks, with fault injection. */
  cognitoProxy: CognitoProxy;
  cognito: { url: string; userPoolId: string; tokenUrl: string; jwksUrl: string; issuer: string };
  /** The app client a caller fetches `webhook/invoke` tokens with at the local token endpoint. */
  caller: { clientId: string; clientSecret: string; scope: string };
  /** DynamoDB as every client here reaches it: dynalite behind the registry's stream stand-in. */
  dynamoDbUrl: string;
  tableName: string;
  historyTableName: string;
  /** The registry table's stream, delivered to the history's consumer as on AWS (local/stand-ins/dynamodb-stream.ts). */
  historyStream: {
    /** Settles once every registry change so far is in the history. */
    drained(): Promise<void>;
    /** The stream records delivered so far. */
    delivered(): DynamoDBRecord[];
    /** Hands records to the consumer again, as Lambda may. */
    redeliver(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse>;
  };
  /** The stack DescribeStacks answers for (the control-plane stand-in), as the operator commands' --stack reads it. */
  stackName: string;
  /** The sample API as deployed: GET /orders with a key for the Orders API, GET /payments with a token. */
  sampleApi: {
    url: string;
    ordersApiId: string;
    usagePlanId: string;
    paymentsApiId: string;
    paymentsScope: string;
    narrowApiId: string;
    otherPlanId: string;
  };
  close(): Promise<void>;
}

const seedFile = new URL('./seed.json', import.meta.url);
export const loadSeed = async (): Promise<ControlPlaneSeed> => JSON.parse(await readFile(seedFile, 'utf8'));

/**
 * The places beyond the local webhook's own (`000000000000/us-east-1`, the seed's): another Region of
 * its account, and another account that lets the webhook in through a role, each with an API of its own.
 */
export const localPlaces = {
  europe: { account: '000000000000', region: 'eu-west-1', apiId: 'e4u7r0p3a1', usagePlanId: '6eu12a' },
  partner: { account: '222222222222', region: 'us-west-2', apiId: 'p9a2r5t8n1', usagePlanId: '7pt34b' },
} as const;
const partnerRole = {
  roleArn: `arn:aws:iam::${localPlaces.partner.account}:role/portal-credentials-target`,
  externalId: 'portal-credentials-local',
} as const;

const localPlaceSeeds: Record<PlaceId, ApiGatewaySeed> = {
  [`${localPlaces.europe.account}/${localPlaces.europe.region}`]: {
    restApis: [{ id: localPlaces.europe.apiId, name: 'Orders API (Europe)' }],
    usagePlans: [{ id: localPlaces.europe.usagePlanId, name: 'Europe Bronze', apiStages: [{ apiId: localPlaces.europe.apiId, stage: 'prod' }] }],
  },
  [`${localPlaces.partner.account}/${localPlaces.partner.region}`]: {
    restApis: [{ id: localPlaces.partner.apiId, name: 'Partner API' }],
    usagePlans: [{ id: localPlaces.partner.usagePlanId, name: 'Partner Basic', apiStages: [{ apiId: localPlaces.partner.apiId, stage: 'prod' }] }],
  },
};
const localRoles: LocalRole[] = [{ ...partnerRole, trustedAccounts: [functionDefaults.accountId] }];

/**
 * API keys by default; the seed's Payments API with client credentials, so both kinds work out of
 * the box. Its third API holds a narrower grant (payments/write only), so that `verify` can narrow
 * a client's scopes and see GET payments refuse it. Two more APIs live elsewhere (`localPlaces`).
 */
export const localCredentialPolicy: CredentialPolicySettings = {
  defaultType: 'API_KEY',
  apis: {
    q8w2e4r6t1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'payments/write'] },
    z9x8c7v6b5: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/write'] },
    [localPlaces.europe.apiId]: { region: localPlaces.europe.region },
    [localPlaces.partner.apiId]: { account: localPlaces.partner.account, region: localPlaces.partner.region },
  },
  targets: [
    { regions: [localPlaces.europe.region] },
    { account: localPlaces.partner.account, regions: [localPlaces.partner.region], ...partnerRole },
  ],
};

/** The local stack's name; its DeploymentId output is the functions' DEPLOYMENT_ID (`local`), as a deployed stack's is its name. */
export const localStackName = 'portal-credentials-local';

const localAws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/**
 * What the `jwt` scheme trusts: the local token endpoint's tokens for the caller client, unless the
 * environment says otherwise. A JWT_ISSUER, JWT_JWKS_URL, JWT_CLIENT_IDS or JWT_AUDIENCES already
 * set is kept, and another issuer brings its own JWKS (its default URL) and clients.
 */
export const localJwtTrust = (env: NodeJS.ProcessEnv, local: { issuer: string; jwksUrl: string; callerClientId: string }): Record<string, string> => {
  const otherIssuer = env.JWT_ISSUER !== undefined && env.JWT_ISSUER !== local.issuer;
  return {
    JWT_ISSUER: env.JWT_ISSUER ?? local.issuer,
    ...(env.JWT_JWKS_URL ? { JWT_JWKS_URL: env.JWT_JWKS_URL } : otherIssuer ? {} : { JWT_JWKS_URL: local.jwksUrl }),
    ...(env.JWT_CLIENT_IDS
      ? { JWT_CLIENT_IDS: env.JWT_CLIENT_IDS }
      : otherIssuer || env.JWT_AUDIENCES
        ? {}
        : { JWT_CLIENT_IDS: local.callerClientId }),
  };
};

/**
 * The webhook as deployed, on this machine: the production handlers behind an HTTP
 * bridge, their AWS clients pointed at local stand-ins by the SDK's standard
 * endpoint variables. One process holds one webhook (configuration is read once).
 */
export const startLocalWebhook = async (options: LocalWebhookOptions): Promise<LocalWebhook> => {
  if ((options.environment?.AUTH_SCHEMES ?? process.env.AUTH_SCHEMES)?.split(',').some((scheme) => scheme.trim() === 'iam')) {
    throw new Error('AUTH_SCHEMES=iam needs API Gateway, which checks the AWS signature: it cannot run locally');
  }
  const tableName = 'portal-credentials-registry';
  const secretId = 'portal-credentials-webhook/basic-auth';
  const seed = options.seed ?? (await loadSeed());
  const [dynamo, controlPlane, cognitoLocal] = await Promise.all([
    startLocalDynamoDb(),
    startAwsControlPlane({ seed, places: localPlaceSeeds, roles: localRoles }),
    startCognitoLocal(),
  ]);
  const historyTableName = 'portal-credentials-history';
  await createRegistryTable(dynamo.url, tableName);
  const cognitoProxy = await startCognitoProxy(cognitoLocal.url);
  await createHistoryTable(dynamo.url, historyTableName);
  // The consumer loads with the functions, once the environment below is set; records wait for it.
  let loadConsumer: (handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>) => void = () => {};
  const consumer = new Promise<(event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>>((resolve) => {
    loadConsumer = resolve;
  });
  const stream = await startDynamoDbStream({
    dynamoDbUrl: dynamo.url,
    tableNames: [tableName],
    deliver: async (event) => (await consumer)(event),
    onDiscarded: (record) =>
      console.error(
        `local stream: gave up recording the change of ${JSON.stringify(record.dynamodb?.Keys)} (sequence ${record.dynamodb?.SequenceNumber})`,
      ),
  });
  const cognitoAdmin = new CognitoIdentityProviderClient({ ...localAws, endpoint: cognitoLocal.url });
  const { UserPool } = await cognitoAdmin.send(new CreateUserPoolCommand({ PoolName: 'portal-credentials-local' }));
  const userPoolId = UserPool?.Id as string;
  // What the stack's caller client is on AWS: client credentials only, the webhook's scope only.
  const callerScope = functionDefaults.scope;
  const { UserPoolClient: callerClient } = await cognitoAdmin.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'webhook-caller',
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: [callerScope],
    }),
  );
  cognitoAdmin.destroy();
  const caller = { clientId: callerClient?.ClientId as string, clientSecret: callerClient?.ClientSecret as string, scope: callerScope };
  const tokenEndpoint = await startCognitoTokenEndpoint({ cognitoEndpoint: cognitoLocal.url, userPoolId, region: localAws.region });
  const secrets = new SecretsManagerClient({ ...localAws, endpoint: controlPlane.url });
  const sets = options.bearerTokens?.length || options.apiKeys?.length;
  const secret = sets
    ? { basic: options.basicCredentials, bearerTokens: options.bearerTokens ?? [], apiKeys: options.apiKeys ?? [] }
    : options.basicCredentials;
  await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(secret) }));
  secrets.destroy();

  Object.assign(process.env, {
    AWS_REGION: localAws.region,
    AWS_ACCESS_KEY_ID: localAws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localAws.credentials.secretAccessKey,
    // Through the stream stand-in: it sees every registry write, whoever makes it.
    AWS_ENDPOINT_URL_DYNAMODB: stream.url,
    AWS_ENDPOINT_URL_API_GATEWAY: controlPlane.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: controlPlane.url,
    // The audit reads the pool's applied quota of app clients here (the SDK's service id "Service Quotas").
    AWS_ENDPOINT_URL_SERVICE_QUOTAS: controlPlane.url,
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognitoProxy.url,
    // The operator commands find the local stack (DescribeStacks) and their caller (GetCallerIdentity) here.
    AWS_ENDPOINT_URL_CLOUDFORMATION: controlPlane.url,
    AWS_ENDPOINT_URL_STS: controlPlane.url,
    REGISTRY_TABLE_NAME: tableName,
    HISTORY_TABLE_NAME: historyTableName,
    HISTORY_RETENTION_DAYS: String(functionDefaults.historyRetentionDays),
    CREDENTIAL_POLICY: JSON.stringify(options.credentialPolicy ?? localCredentialPolicy),
    USER_POOL_ID: userPoolId,
    TOKEN_URL: tokenEndpoint.tokenUrl,
    BASIC_AUTH_SECRET_ID: secretId,
    // CloudWatch reads metrics from the log stream; on this machine they would only be noise.
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
    ...localJwtTrust(process.env, { issuer: tokenEndpoint.issuer, jwksUrl: tokenEndpoint.jwksUrl, callerClientId: caller.clientId }),
    ...options.environment,
  });
  // No API Gateway here: its Cognito authorizer's check (signature, issuer, expiry, access token, scope) is made by the `jwt` scheme against the local pool.
  if (process.env.AUTH_SCHEMES?.trim() === 'cognito') process.env.AUTH_SCHEMES = 'jwt';

  // Loaded only now, so that their cold start reads the environment above.
  const [create, update, revoke, health, recordHistory] = await Promise.all([
    import('../lambda/handlers/create-credentials.ts'),
    import('../lambda/handlers/update-credentials.ts'),
    import('../lambda/handlers/revoke-credentials.ts'),
    import('../lambda/handlers/health.ts'),
    import('../lambda/handlers/record-history.ts'),
  ]);
  loadConsumer(recordHistory.handler);
  const bridge = await startHttpBridge(
    {
      'POST /v1/createCredentials': create.handler,
      'POST /v1/updateCredentials': update.handler,
      'POST /v1/revokeCredentials': revoke.handler,
      'GET /v1/health': health.handler,
    },
    { host: options.host, port: options.port },
  );
  const sampleApiGateway = new APIGatewayClient({ ...localAws, endpoint: controlPlane.url });
  const sample = {
    ordersApiId: '5aba4csvd4',
    usagePlanId: '1el57v',
    paymentsApiId: 'q8w2e4r6t1',
    paymentsScope: 'payments/read',
    narrowApiId: 'z9x8c7v6b5',
    otherPlanId: '5ip91z',
  };
  const sampleApi = await startLocalSampleApi({
    apiGateway: sampleApiGateway,
    ordersApiId: sample.ordersApiId,
    issuer: tokenEndpoint.issuer,
    jwksUrl: tokenEndpoint.jwksUrl,
    paymentsScope: sample.paymentsScope,
    ...(options.host ? { host: options.host } : {}),
  });
  controlPlane.putStack({
    name: localStackName,
    outputs: {
      WebhookUrl: `${bridge.url}/`,
      BasicAuthSecretArn: secretId,
      DeploymentId: process.env.DEPLOYMENT_ID ?? functionDefaults.deploymentId,
      RegistryTableName: tableName,
      HistoryTableName: historyTableName,
      HistoryRetentionDays: process.env.HISTORY_RETENTION_DAYS ?? String(functionDefaults.historyRetentionDays),
      ClaimLeaseSeconds: process.env.CLAIM_LEASE_SECONDS ?? String(functionDefaults.claimLeaseSeconds),
      // Locally every seeded plan is the deployment's, in every place: the functions refuse none of them.
      UsagePlanIds: [
        ...seed.usagePlans.map((plan) => plan.id),
        ...Object.entries(localPlaceSeeds).flatMap(([place, placeSeed]) => placeSeed.usagePlans.map((plan) => `${place}/${plan.id}`)),
      ].join(','),
      DeploymentAccountId: process.env.DEPLOYMENT_ACCOUNT_ID ?? functionDefaults.accountId,
      ...((options.credentialPolicy ?? localCredentialPolicy).targets?.length
        ? { ProvisioningTargets: JSON.stringify((options.credentialPolicy ?? localCredentialPolicy).targets) }
        : {}),
      AppClientsQuota: process.env.APP_CLIENTS_QUOTA ?? String(functionDefaults.appClientsQuota),
      UserPoolId: userPoolId,
      AccessTokenValidityMinutes: process.env.ACCESS_TOKEN_VALIDITY_MINUTES ?? String(functionDefaults.accessTokenValidityMinutes),
      TokenUrl: tokenEndpoint.tokenUrl,
      SampleApiUrl: sampleApi.url,
      SampleApiId: sample.ordersApiId,
      SampleUsagePlanId: sample.usagePlanId,
    },
  });
  return {
    stackName: localStackName,
    url: bridge.url,
    sampleApi: { url: sampleApi.url, ...sample },
    controlPlane,
    cognitoProxy,
    cognito: { url: cognitoLocal.url, userPoolId, tokenUrl: tokenEndpoint.tokenUrl, jwksUrl: tokenEndpoint.jwksUrl, issuer: tokenEndpoint.issuer },
    caller,
    dynamoDbUrl: stream.url,
    tableName,
    historyTableName,
    historyStream: {
      drained: () => stream.drained(),
      delivered: () => stream.delivered(),
      redeliver: (records) => recordHistory.handler({ Records: records }),
    },
    close: async () => {
      await Promise.all([bridge.close(), sampleApi.close()]);
      sampleApiGateway.destroy();
      await stream.close();
      await Promise.all([controlPlane.close(), cognitoProxy.close(), dynamo.close(), tokenEndpoint.close(), cognitoLocal.close()]);
    },
  };
};
