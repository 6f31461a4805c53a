import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { type App, App as CdkApp, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionBundling } from '../../../infra/function-bundling.ts';
import { PortalCredentialsWebhook } from '../../../infra/portal-credentials-webhook.ts';
import type { PortalCredentialsWebhookStack } from '../../../infra/portal-credentials-webhook-stack.ts';
import type { WebhookRoute } from '../../../infra/route-permissions.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY } from '../../../infra/settings.ts';
import { buildStack, cdkJson, nagFindings, testEnv as env } from '../../helpers/webhook-stack.ts';

/** How API Gateway control-plane ARNs synthesize: the partition stays a pseudo-parameter. */
const apigatewayArn = (path: string, ...rest: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:apigateway:eu-west-1::${path}`, ...rest]],
});

let stack: PortalCredentialsWebhookStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

const logicalId = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
const ref = (construct: IConstruct) => ({ Ref: logicalId(construct) });
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });

/** Every statement of the role's policies, whatever policy resource holds them. */
const statementsOf = (roleId: string) =>
  Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement);

const roleIdOf = (route: WebhookRoute) =>
  (resources[logicalId(stack.webhook.functions[route])]!.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

beforeAll(() => {
  // Prepare + Act: bundling four functions takes seconds, so one synthesized template serves every test.
  ({ stack } = buildStack({ bundle: true, env }));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
}, 60_000);

describe('the webhook API', () => {
  const routes: [WebhookRoute, string, string][] = [
    ['create', 'POST', '/v1/createCredentials'],
    ['update', 'POST', '/v1/updateCredentials'],
    ['revoke', 'POST', '/v1/revokeCredentials'],
    ['health', 'GET', '/v1/health'],
  ];

  it('serves exactly the four contract routes', () => {
    // Act
    const served = stack.webhook.api.methods.map((method) => `${method.httpMethod} ${method.resource.path}`).sort();

    // Assess
    expect(served).toEqual(routes.map(([, method, path]) => `${method} ${path}`).sort());
  });

  it.each(routes)('proxies %s to its own function and refuses requests without an Authorization header', (route, httpMethod, path) => {
    // Prepare
    const method = stack.webhook.api.methods.find((m) => m.resource.path === path && m.httpMethod === httpMethod);

    // Assess
    expect(method).toBeDefined();
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: httpMethod,
      ResourceId: ref(method!.resource),
      AuthorizationType: 'NONE',
      RequestParameters: { 'method.request.header.Authorization': true },
      RequestValidatorId: ref(stack.webhook.api.node.findChild('RequestValidator')),
      Integration: {
        Type: 'AWS_PROXY',
        Uri: { 'Fn::Join': ['', Match.arrayWith([arnOf(stack.webhook.functions[route])])] },
      },
    });
  });

  it('is regional, validates parameters and throttles the stage with the configured rate and burst', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'Webhook-webhook', EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { RestApiId: ref(stack.webhook.api), ValidateRequestParameters: true });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      RestApiId: ref(stack.webhook.api),
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
        },
      ],
    });
  });

  it('writes one JSON access-log line per request to its log group, without headers or bodies', () => {
    // Act
    const stage = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::ApiGateway::Stage' && JSON.stringify(resource.Properties.RestApiId) === JSON.stringify(ref(stack.webhook.api)),
    );
    const accessLog = stage?.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };
    const fields = JSON.parse(accessLog.Format) as Record<string, string>;

    // Assess
    expect(accessLog.DestinationArn).toEqual(arnOf(stack.webhook.accessLogGroup));
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      resourcePath: '$context.resourcePath',
      errorResponseType: '$context.error.responseType',
    });
    expect(Object.values(fields).join(' ')).not.toMatch(/requestHeader|requestOverride|apiKey}|\$input/);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('answers a missing or refused Basic credential with 401, a Basic challenge and the contract error body', () => {
    // Prepare
    const challenge = { 'gatewayresponse.header.WWW-Authenticate': `'Basic realm="portal-credentials-webhook", charset="UTF-8"'` };
    const body = { 'application/json': JSON.stringify({ code: 'UNAUTHORIZED', message: 'Valid HTTP Basic credentials are required.' }) };

    // Assess
    for (const type of ['UNAUTHORIZED', 'BAD_REQUEST_PARAMETERS']) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: '401',
        ResponseParameters: challenge,
        ResponseTemplates: body,
      });
    }
  });

  it.each([
    ['ACCESS_DENIED', '403', 'ACCESS_DENIED'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['THROTTLED', '429', 'THROTTLED'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    ['DEFAULT_4XX', undefined, 'GATEWAY_REFUSED'],
    ['DEFAULT_5XX', undefined, 'GATEWAY_FAILURE'],
  ])("answers the %s gateway response with %s and the contract error body, never API Gateway's own text", (type, statusCode, code) => {
    // Act
    const response = Object.values(resources).find(
      (resource) => resource.Type === 'AWS::ApiGateway::GatewayResponse' && resource.Properties.ResponseType === type,
    );
    const body = JSON.parse((response!.Properties.ResponseTemplates as Record<string, string>)['application/json'] as string) as Record<
      string,
      string
    >;

    // Assess
    expect(response?.Properties.StatusCode).toBe(statusCode);
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(body.code).toBe(code);
    expect(body.message).not.toContain('$context');
  });
});

describe('the functions', () => {
  const routes: WebhookRoute[] = ['create', 'update', 'revoke', 'health'];

  it.each(routes)('runs %s on nodejs24.x arm64 with a 25 s timeout, 512 MB, active tracing and its own log group', (route) => {
    // Prepare
    const fn = stack.webhook.functions[route];

    // Assess
    expect(resources[logicalId(fn)]?.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 25,
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
    });
  });

  it.each(routes)('bundles %s for the Node version its runtime runs', (route) => {
    // Prepare
    const { Runtime: runtime } = resources[logicalId(stack.webhook.functions[route])]!.Properties;

    // Assess
    expect(runtime).toBe(`nodejs${functionBundling.target.replace(/^node/, '')}.x`);
  });

  it.each(routes)('gives %s the environment config.ts validates at cold start, with the usage plans its role may link', (route) => {
    // Prepare
    const { webhook } = stack;
    const tokenUrl = {
      'Fn::Join': ['', ['https://', ref(webhook.userPool!.node.findChild('Domain')), '.auth.eu-west-1.amazoncognito.com/oauth2/token']],
    };

    // Act
    const variables = (resources[logicalId(webhook.functions[route])]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

    // Assess: the credential policy is not there (it is in the bundle); the stack's name tells its API keys from another stack's,
    // and its account is the place of every API the policy places nowhere else.
    expect(variables).toEqual({
      DEPLOYMENT_ID: stack.stackName,
      DEPLOYMENT_ACCOUNT_ID: stack.account,
      REGISTRY_TABLE_NAME: ref(webhook.table),
      BASIC_AUTH_SECRET_ID: ref(webhook.basicAuthSecret),
      BASIC_AUTH_REALM: 'portal-credentials-webhook',
      BASIC_AUTH_CACHE_SECONDS: '300',
      USAGE_PLAN_IDS: ref(webhook.sampleApi!.usagePlan),
      USER_POOL_ID: ref(webhook.userPool!),
      TOKEN_URL: tokenUrl,
      ACCESS_TOKEN_VALIDITY_MINUTES: '60',
      APP_CLIENTS_QUOTA: '1000',
      CLAIM_LEASE_SECONDS: '60',
      CLAIM_WAIT_SECONDS: '15',
      HISTORY_TABLE_NAME: ref(webhook.history.table),
      HISTORY_RETENTION_DAYS: '365',
    });
  });

  it('writes the credential policy beside each prebuilt bundle, which reads it at cold start instead of CREDENTIAL_POLICY', () => {
    // Prepare: the policy asks for client credentials, which need USER_POOL_ID and TOKEN_URL.
    const bundleOf = (route: WebhookRoute) =>
      join((stack.node.root as App).outdir, (stack.webhook.functions[route].node.findChild('Code') as Asset).assetPath, 'index.mjs');
    const coldStart = (environment: Record<string, string>) => () =>
      execFileSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(bundleOf('health'))});`], {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          REGISTRY_TABLE_NAME: 'registry',
          BASIC_AUTH_SECRET_ID: 'secret',
          USAGE_PLAN_IDS: 'plan01',
          ...environment,
        },
        stdio: 'pipe',
      });
    const policy = JSON.stringify({
      defaultType: 'API_KEY',
      apis: { 'sample-payments': { type: 'CLIENT_CREDENTIALS', scopes: ['portal-sample/payments.read'] } },
    });

    const auditBundle = join(
      (stack.node.root as App).outdir,
      (stack.webhook.driftAudit!.function.node.findChild('Code') as Asset).assetPath,
      'index.mjs',
    );

    const policyBeside = (bundle: string) => readFileSync(join(dirname(bundle), 'credential-policy.json'), 'utf8');

    // Act + Assess: the scheduled audit too, or it would audit API keys only; the bundles themselves hold no policy.
    for (const route of routes) expect(policyBeside(bundleOf(route))).toBe(policy);
    expect(policyBeside(auditBundle)).toBe(policy);
    expect(readFileSync(bundleOf('create'), 'utf8')).not.toContain('portal-sample/payments.read');
    expect(coldStart({})).toThrow(/USER_POOL_ID and TOKEN_URL are required/);
    expect(coldStart({ CREDENTIAL_POLICY: JSON.stringify({ defaultType: 'API_KEY' }) })).toThrow(/USER_POOL_ID and TOKEN_URL are required/);
    expect(coldStart({ USER_POOL_ID: 'eu-west-1_Pool1', TOKEN_URL: 'https://auth.example.com/oauth2/token' })).not.toThrow();
    // Three Node processes loading a bundle each: seconds on a busy machine.
  }, 60_000);

  it('bundles each handler as minified ESM with the createRequire banner, a source map and the AWS SDK inside', () => {
    // Prepare
    const assembly = stack.node.root as App;

    for (const fn of Object.values(stack.webhook.functions)) {
      // Act
      const assetDir = join(assembly.outdir, (fn.node.findChild('Code') as Asset).assetPath);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

      // Assess
      expect(bundle.startsWith("import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);")).toBe(true);
      expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(bundle).toMatch(/sourceMappingURL=index\.mjs\.map/);
      expect(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8').length).toBeGreaterThan(0);
    }
  });
});

describe('least privilege', () => {
  const logsAndTracing = (route: WebhookRoute) => [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: arnOf(stack.webhook.node.findChild(`${routeName[route]}Logs`)),
    },
    { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
  ];
  const routeName: Record<WebhookRoute, string> = {
    create: 'CreateCredentials',
    update: 'UpdateCredentials',
    revoke: 'RevokeCredentials',
    health: 'Health',
  };
  const readSecret = () => ({
    Sid: 'ReadBasicAuthSecret',
    Effect: 'Allow',
    Action: 'secretsmanager:GetSecretValue',
    Resource: ref(stack.webhook.basicAuthSecret),
  });
  const samplePlanKeys = (suffix: string) => apigatewayArn('/usageplans/', ref(stack.webhook.sampleApi!.usagePlan), `/keys${suffix}`);
  const readSamplePlan = () => ({
    Sid: 'ReadUsagePlans',
    Effect: 'Allow',
    Action: 'apigateway:GET',
    Resource: apigatewayArn('/usageplans/', ref(stack.webhook.sampleApi!.usagePlan)),
  });
  const indexArn = () => ({ 'Fn::Join': ['', [arnOf(stack.webhook.table), '/index/byCredentialId']] });
  const ownKeysOnly = { StringEquals: { 'aws:ResourceTag/managed-by': 'portal-credentials-webhook' } };
  const listApiKeys = () => ({ Sid: 'ListApiKeys', Effect: 'Allow', Action: 'apigateway:GET', Resource: apigatewayArn('/apikeys') });
  // Reading a key's value and deleting a key: only keys the webhook tagged as its own.
  const readOwnApiKeys = () => ({
    Sid: 'ReadOwnApiKeys',
    Effect: 'Allow',
    Action: 'apigateway:GET',
    Resource: apigatewayArn('/apikeys/*'),
    Condition: ownKeysOnly,
  });
  const deleteOwnApiKeys = () => ({
    Sid: 'DeleteOwnApiKeys',
    Effect: 'Allow',
    Action: 'apigateway:DELETE',
    Resource: apigatewayArn('/apikeys/*'),
    Condition: ownKeysOnly,
  });

  const recordHistory = () => ({ Sid: 'RecordHistory', Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: arnOf(stack.webhook.history.table) });
  const expected: Record<WebhookRoute, () => unknown[]> = {
    create: () => [
      readSecret(),
      {
        Sid: 'RegistryClaimAndRecord',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: arnOf(stack.webhook.table),
      },
      readSamplePlan(),
      { Sid: 'CreateApiKeys', Effect: 'Allow', Action: 'apigateway:POST', Resource: apigatewayArn('/apikeys') },
      {
        Sid: 'TagNewApiKeys',
        Effect: 'Allow',
        Action: 'apigateway:PUT',
        Resource: [
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':apigateway:eu-west-1::/tags/arn%3?',
                { Ref: 'AWS::Partition' },
                '%3?apigateway%3?eu-west-1%3?%3?%2?apikeys%2?*',
              ],
            ],
          },
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':apigateway:eu-west-1::/tags/arn:',
                { Ref: 'AWS::Partition' },
                ':apigateway:eu-west-1::/apikeys/*',
              ],
            ],
          },
        ],
      },
      listApiKeys(),
      readOwnApiKeys(),
      deleteOwnApiKeys(),
      { Sid: 'LinkApiKeysToUsagePlans', Effect: 'Allow', Action: 'apigateway:POST', Resource: samplePlanKeys('') },
      { Sid: 'VerifyUsagePlanLinks', Effect: 'Allow', Action: 'apigateway:GET', Resource: samplePlanKeys('/*') },
      { Sid: 'ListUsagePlans', Effect: 'Allow', Action: 'apigateway:GET', Resource: apigatewayArn('/usageplans') },
      { Sid: 'UnlinkApiKeysFromUsagePlans', Effect: 'Allow', Action: 'apigateway:DELETE', Resource: samplePlanKeys('/*') },
      {
        Sid: 'ManageAppClients',
        Effect: 'Allow',
        Action: [
          'cognito-idp:CreateUserPoolClient',
          'cognito-idp:DescribeUserPoolClient',
          'cognito-idp:UpdateUserPoolClient',
          'cognito-idp:DeleteUserPoolClient',
          'cognito-idp:ListUserPoolClients',
        ],
        Resource: arnOf(stack.webhook.userPool!),
      },
      recordHistory(),
      ...logsAndTracing('create'),
    ],
    update: () => [
      readSecret(),
      { Sid: 'RegistryFindByCredentialId', Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn() },
      {
        Sid: 'RegistryReadAndRecordGrant',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: arnOf(stack.webhook.table),
      },
      readSamplePlan(),
      readOwnApiKeys(),
      listApiKeys(),
      { Sid: 'ListUsagePlans', Effect: 'Allow', Action: 'apigateway:GET', Resource: apigatewayArn('/usageplans') },
      { Sid: 'LinkApiKeysToUsagePlans', Effect: 'Allow', Action: 'apigateway:POST', Resource: samplePlanKeys('') },
      { Sid: 'VerifyUsagePlanLinks', Effect: 'Allow', Action: 'apigateway:GET', Resource: samplePlanKeys('/*') },
      { Sid: 'UnlinkApiKeysFromUsagePlans', Effect: 'Allow', Action: 'apigateway:DELETE', Resource: samplePlanKeys('/*') },
      {
        Sid: 'UpdateAppClients',
        Effect: 'Allow',
        Action: ['cognito-idp:DescribeUserPoolClient', 'cognito-idp:UpdateUserPoolClient'],
        Resource: arnOf(stack.webhook.userPool!),
      },
      recordHistory(),
      ...logsAndTracing('update'),
    ],
    revoke: () => [
      readSecret(),
      { Sid: 'RegistryFindByCredentialId', Effect: 'Allow', Action: 'dynamodb:Query', Resource: indexArn() },
      {
        Sid: 'RegistryReadAndMarkRevoked',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: arnOf(stack.webhook.table),
      },
      listApiKeys(),
      readOwnApiKeys(),
      deleteOwnApiKeys(),
      {
        Sid: 'DeleteAppClients',
        Effect: 'Allow',
        Action: ['cognito-idp:DeleteUserPoolClient', 'cognito-idp:DescribeUserPoolClient', 'cognito-idp:ListUserPoolClients'],
        Resource: arnOf(stack.webhook.userPool!),
      },
      recordHistory(),
      ...logsAndTracing('revoke'),
    ],
    // Health proves the secret is readable, and touches nothing else.
    health: () => [readSecret(), ...logsAndTracing('health')],
  };

  it.each(Object.keys(expected) as WebhookRoute[])('grants the %s function exactly the calls its code makes, on named resources', (route) => {
    // Act
    const statements = statementsOf(roleIdOf(route));

    // Assess
    expect(statements).toHaveLength(expected[route]().length);
    expect(statements).toEqual(expect.arrayContaining(expected[route]()));
  });

  it.each(Object.keys(expected) as WebhookRoute[])(
    'gives the %s function a role of its own, trusted by Lambda only and without managed policies',
    (route) => {
      // Act
      const role = resources[roleIdOf(route)]?.Properties;

      // Assess
      expect(role?.ManagedPolicyArns).toBeUndefined();
      expect(role?.AssumeRolePolicyDocument).toEqual({
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      });
    },
  );

  it('links keys only to the configured usage plans and grants no Cognito action when no API uses client credentials', () => {
    // Prepare
    const { stack: keysOnly } = buildStack({
      bundle: false,
      env,
      change: (settings) => ({
        ...settings,
        credentialPolicy: { defaultType: 'API_KEY' },
        clientCredentials: undefined,
        sampleApi: { enabled: false },
        usagePlanIds: ['plan01', 'plan02'],
      }),
    });

    // Act
    const keysOnlyTemplate = Template.fromStack(keysOnly);
    const allStatements = JSON.stringify(keysOnlyTemplate.findResources('AWS::IAM::Policy'));

    // Assess
    keysOnlyTemplate.resourceCountIs('AWS::Cognito::UserPool', 0);
    keysOnlyTemplate.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    expect(allStatements).not.toContain('cognito-idp:');
    keysOnlyTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'LinkApiKeysToUsagePlans',
            Effect: 'Allow',
            Action: 'apigateway:POST',
            Resource: [apigatewayArn('/usageplans/plan01/keys'), apigatewayArn('/usageplans/plan02/keys')],
          },
          {
            Sid: 'UnlinkApiKeysFromUsagePlans',
            Effect: 'Allow',
            Action: 'apigateway:DELETE',
            Resource: [apigatewayArn('/usageplans/plan01/keys/*'), apigatewayArn('/usageplans/plan02/keys/*')],
          },
        ]),
      },
    });
    const health = keysOnly.webhook.functions.health;
    const variables = (
      keysOnlyTemplate.toJSON().Resources[keysOnly.getLogicalId(health.node.defaultChild as CfnElement)].Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(Object.keys(variables)).not.toContain('USER_POOL_ID');
  });
});

describe('the registry table and the Basic-auth secret', () => {
  it('keys the registry by appKey with the byCredentialId index, on demand, recoverable and kept by a teardown', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'appKey', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'appKey', AttributeType: 'S' },
          { AttributeName: 'credentialId', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          { IndexName: 'byCredentialId', KeySchema: [{ AttributeName: 'credentialId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('generates a {"username":"portal","password":...} pair of 40 letters and digits at deployment', () => {
    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({ username: 'portal' }),
        GenerateStringKey: 'password',
        ExcludePunctuation: true,
        IncludeSpace: false,
        PasswordLength: 40,
      },
    });
    expect(JSON.stringify(template.toJSON().Outputs)).not.toMatch(/SecretString|password/i);
  });
});

describe('client credentials and the sample API', () => {
  it('creates a user pool with no sign-up, its domain and a resource server with the configured scope', () => {
    // Assess
    template.hasResource('AWS::Cognito::UserPool', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: { AdminCreateUserConfig: { AllowAdminCreateUserOnly: true }, DeletionProtection: 'ACTIVE' },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: 'webhook-123456789012',
      UserPoolId: ref(stack.webhook.userPool!),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'portal-sample',
      Scopes: [Match.objectLike({ ScopeName: 'payments.read' })],
      UserPoolId: ref(stack.webhook.userPool!),
    });
  });

  it('requires an API key on GET /orders, through a usage plan on the sample stage', () => {
    // Prepare
    const sample = stack.webhook.sampleApi!;

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      RestApiId: ref(sample.api),
      HttpMethod: 'GET',
      ApiKeyRequired: true,
      Integration: Match.objectLike({ Type: 'MOCK' }),
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      ApiStages: [Match.objectLike({ ApiId: ref(sample.api), Stage: ref(sample.api.deploymentStage) })],
    });
  });

  it('requires an access token with the payments scope on GET /payments, so client-credentials tokens are accepted', () => {
    // Prepare
    const sample = stack.webhook.sampleApi!;
    const authorizer = sample.node.findChild('Authorizer');

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      ProviderARNs: [arnOf(stack.webhook.userPool!)],
      RestApiId: ref(sample.api),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      RestApiId: ref(sample.api),
      HttpMethod: 'GET',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: ref(authorizer),
      AuthorizationScopes: ['portal-sample/payments.read'],
    });
  });
});

describe('observability and outputs', () => {
  it('alarms on API 5XX and on every function error and throttle', () => {
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties as Record<string, unknown>);

    // Assess
    expect(alarms.filter((alarm) => alarm.Namespace === 'AWS/ApiGateway' && alarm.MetricName === '5XXError')).toHaveLength(1);
    for (const fn of Object.values(stack.webhook.functions)) {
      for (const metricName of ['Errors', 'Throttles']) {
        expect(alarms).toContainEqual(
          expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: ref(fn) }] }),
        );
      }
    }
  });

  it('has one dashboard graphing requests, latency and errors per route and the webhook Requests metric', () => {
    // Act
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties);

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    for (const title of ['Requests per route', 'Latency per route', 'Errors per route']) expect(body).toContain(title);
    for (const path of ['/v1/createCredentials', '/v1/updateCredentials', '/v1/revokeCredentials', '/v1/health']) expect(body).toContain(path);
    expect(body).toContain(`SEARCH('{PortalCredentialsWebhook,service,route,outcome,credentialType} MetricName=\\\\\\"Requests\\\\\\"'`);
  });

  it('outputs the webhook URL, the secret ARN, the token URL, the sample API URL and plan id, and what the operator commands read', () => {
    // Assess
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'AccessTokenValidityMinutes',
      'AppClientsQuota',
      'BasicAuthSecretArn',
      'ClaimLeaseSeconds',
      'DeploymentAccountId',
      'DeploymentId',
      'HistoryRetentionDays',
      'HistoryTableName',
      'RegistryTableName',
      'SampleApiId',
      'SampleApiUrl',
      'SampleUsagePlanId',
      'TokenUrl',
      'UsagePlanIds',
      'UserPoolId',
      'WebhookUrl',
    ]);
    template.hasOutput('BasicAuthSecretArn', { Value: ref(stack.webhook.basicAuthSecret) });
    template.hasOutput('SampleUsagePlanId', { Value: ref(stack.webhook.sampleApi!.usagePlan) });
    template.hasOutput('WebhookUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([ref(stack.webhook.api)])] } });
  });

  it("outputs the values the functions run with, so the operator commands' --stack reads the same retention, lease, plans and token lifetime", () => {
    // Prepare
    const environment = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Properties.Environment?.Variables?.HISTORY_RETENTION_DAYS,
    )?.Properties.Environment.Variables;
    const outputs = template.toJSON().Outputs;

    // Assess
    expect(outputs.HistoryRetentionDays.Value).toBe(environment.HISTORY_RETENTION_DAYS);
    expect(outputs.ClaimLeaseSeconds.Value).toBe(environment.CLAIM_LEASE_SECONDS);
    expect(outputs.AccessTokenValidityMinutes.Value).toBe(environment.ACCESS_TOKEN_VALIDITY_MINUTES);
    expect(outputs.UsagePlanIds.Value).toEqual(environment.USAGE_PLAN_IDS);
    expect(outputs.AppClientsQuota.Value).toBe(environment.APP_CLIENTS_QUOTA);
    expect(outputs.DeploymentAccountId.Value).toEqual(environment.DEPLOYMENT_ACCOUNT_ID);
    template.hasOutput('SampleApiId', { Value: ref(stack.webhook.sampleApi!.api) });
  });
});

describe('cdk-nag AwsSolutions', () => {
  const findings = nagFindings;

  it('reports nothing unacknowledged for a stack in a known account and Region', () => {
    // Act + Assess
    expect(findings(stack)).toEqual([]);
  });

  it('lets an environment-agnostic app synthesize with the AwsSolutions plugin registered', () => {
    // Prepare
    const { app, stack: agnostic } = buildStack({ bundle: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

    // Act + Assess
    expect(findings(agnostic)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
    expect(Stack.of(agnostic).resolve(agnostic.region)).toEqual({ Ref: 'AWS::Region' });
  });
});

describe('settings', () => {
  const valid = () => structuredClone(cdkJson.context[SETTINGS_CONTEXT_KEY]) as Record<string, unknown>;

  it('reads the default cdk.json configuration, which issues both credential types', () => {
    // Act
    const settings = parseSettings(valid());

    // Assess
    expect(settings.credentialPolicy.defaultType).toBe('API_KEY');
    expect(Object.values(settings.credentialPolicy.apis)).toContainEqual({ type: 'CLIENT_CREDENTIALS', scopes: ['portal-sample/payments.read'] });
  });

  it.each([
    ['a negative rate', { throttling: { rateLimit: -1, burstLimit: 10 } }, /throttling\.rateLimit/],
    [
      'a malformed scope',
      { credentialPolicy: { apis: { a1: { type: 'CLIENT_CREDENTIALS', scopes: ['no-slash'] } } } },
      /credentialPolicy\.apis\.a1\.scopes\.0/,
    ],
    ['an unknown credential type', { credentialPolicy: { defaultType: 'TOKEN' } }, /credentialPolicy\.defaultType/],
    ['a lease shorter than the timeout', { claim: { leaseSeconds: 20 } }, /claim\.leaseSeconds: must exceed the functions' timeout/],
    // 25 s of timeout plus the 10 s a holder keeps before its lease ends: a running change would find its turn over.
    [
      'a lease within the margin of the timeout',
      { claim: { leaseSeconds: 35 } },
      /claim\.leaseSeconds: must exceed the functions' timeout \(25 s\) plus the margin/,
    ],
    ['a retention CloudWatch does not offer', { logRetentionDays: 42 }, /logRetentionDays/],
    ['an invalid domain prefix', { clientCredentials: { domainPrefix: 'My_Domain' } }, /clientCredentials\.domainPrefix/],
    ['a payments scope no API has', { sampleApi: { enabled: true, paymentsScope: 'other/scope' } }, /sampleApi\.paymentsScope/],
    ['no usage plan for API keys', { sampleApi: { enabled: false }, usagePlanIds: [] }, /usagePlanIds/],
    ['a misspelt field', { stagename: 'prod' }, /Unrecognized key.*stagename/],
    [
      'usage plans inside the credential policy',
      { credentialPolicy: { usagePlanIds: ['1el57v'] } },
      /credentialPolicy\.usagePlanIds: name the usage plans in usagePlanIds/,
    ],
  ])('fails the synth naming the field for %s', (_problem, change, message) => {
    // Act + Assess
    expect(() => parseSettings({ ...valid(), ...change })).toThrow(message);
  });
});

describe('the construct used on its own', () => {
  it('refuses at synth a claim wait the functions would refuse at cold start', () => {
    // Prepare
    const app = new CdkApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Library', { env });

    // Act + Assess
    expect(() => new PortalCredentialsWebhook(stack, 'Webhook', { claimWait: Duration.seconds(22) })).toThrow(
      /claimWait \(22 s\) must be at most 20 s/,
    );
  });
});
