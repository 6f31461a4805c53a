import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanCommand,
  GetUsagePlanKeyCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ChangeHistory } from '../../../infra/change-history.ts';
import { DriftAudit } from '../../../infra/drift-audit.ts';
import { HistoryStream } from '../../../infra/history-stream.ts';
import { routePermissions, type WebhookRoute } from '../../../infra/route-permissions.ts';
import { PortalCredentialsTargetRole } from '../../../infra/target-role.ts';
import { aws, awsError, conditionFailed, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { createRequest, lambdaContext, proxyEvent, withPlans } from '../../helpers/portal.ts';
import { usagePlanFromSeed } from '../../helpers/usage-plans.ts';

// Both credential kinds, so that every provisioner is wired (set before the handlers load).
vi.hoisted(() => {
  Object.assign(process.env, {
    CREDENTIAL_POLICY: JSON.stringify({
      defaultType: 'API_KEY',
      apis: { pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] } },
      usagePlanIds: ['1el57v', '2fm68w'],
    }),
    USER_POOL_ID: 'eu-west-1_Pool1',
    TOKEN_URL: 'https://auth.example.com/oauth2/token',
  });
});

const { handler: create } = await import('../../../lambda/handlers/create-credentials.ts');
const { handler: update } = await import('../../../lambda/handlers/update-credentials.ts');
const { handler: revoke } = await import('../../../lambda/handlers/revoke-credentials.ts');
const { handler: health } = await import('../../../lambda/handlers/health.ts');
const cognito = mockClient(CognitoIdentityProviderClient);

const poolArn = 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Pool1';
const tableArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/registry';
const granted = (route: WebhookRoute) =>
  routePermissions(route, {
    basicAuthSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic-auth',
    tableArn,
    credentialIdIndexArn: `${tableArn}/index/byCredentialId`,
    apiKeys: { partition: 'aws', region: 'eu-west-1', usagePlanIds: ['1el57v', '2fm68w'] },
    userPoolArn: poolArn,
  }).map((statement) => statement.toStatementJson() as Statement);

type Statement = { Action: string | string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string>> };
type Permission = { action: string; resource: string; context?: Record<string, string> };

/** Every key the webhook names by id is one it made, so it carries the webhook's tag. */
const ourKey = { 'aws:ResourceTag/managed-by': 'portal-credentials-webhook' };

/** The IAM action, resource and condition context an SDK call needs (API Gateway authorizes verbs on paths). */
const permissionFor = (command: { constructor: { name: string }; input: Record<string, string> }): Permission => {
  const name = command.constructor.name.replace(/Command$/, '');
  const apigateway = (verb: string, path: string) => ({ action: `apigateway:${verb}`, resource: `arn:aws:apigateway:eu-west-1::${path}` });
  const { input } = command;
  switch (name) {
    case 'CreateApiKey':
      return apigateway('POST', '/apikeys');
    case 'GetApiKeys':
      return apigateway('GET', '/apikeys');
    case 'GetApiKey':
      return { ...apigateway('GET', `/apikeys/${input.apiKey}`), context: ourKey };
    case 'DeleteApiKey':
      return { ...apigateway('DELETE', `/apikeys/${input.apiKey}`), context: ourKey };
    case 'GetUsagePlans':
      return apigateway('GET', '/usageplans');
    case 'GetUsagePlan':
      return apigateway('GET', `/usageplans/${input.usagePlanId}`);
    case 'CreateUsagePlanKey':
      return apigateway('POST', `/usageplans/${input.usagePlanId}/keys`);
    case 'GetUsagePlanKey':
      return apigateway('GET', `/usageplans/${input.usagePlanId}/keys/${input.keyId}`);
    case 'DeleteUsagePlanKey':
      return apigateway('DELETE', `/usageplans/${input.usagePlanId}/keys/${input.keyId}`);
    case 'Put':
    case 'Get':
    case 'Update':
    case 'Delete':
      return { action: `dynamodb:${name}Item`, resource: tableArn };
    case 'Query':
      return { action: 'dynamodb:Query', resource: `${tableArn}/index/${input.IndexName}` };
    case 'GetSecretValue':
      return { action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic-auth' };
    default:
      return { action: `cognito-idp:${name}`, resource: poolArn };
  }
};

const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+^$()[\]{}|\\/]/g, '\\$&').replaceAll('?', '.'))
      .join('.*')}$`,
  ).test(value);
/** IAM's StringEquals against the call's context; any other operator counts as unmet, so a new one fails here first. */
const conditionMet = (condition: Statement['Condition'], context: Record<string, string> = {}) =>
  Object.entries(condition ?? {}).every(
    ([operator, keys]) => operator === 'StringEquals' && Object.entries(keys).every(([key, value]) => context[key] === value),
  );
const allows = (statements: Statement[], { action, resource, context }: Permission) =>
  statements.some(
    (s) =>
      [s.Action].flat().includes(action) && [s.Resource].flat().some((pattern) => matches(pattern, resource)) && conditionMet(s.Condition, context),
  );

/** Every AWS call made while `scenarios` run (each starting from mocks that answer every call with success). */
const callsDuring = async (scenarios: (() => Promise<APIGatewayProxyResult>)[]) => {
  const made: { constructor: { name: string }; input: Record<string, string> }[] = [];
  for (const scenario of scenarios) {
    resetAwsMocks();
    cognito.reset();
    aws.apiGateway.onAnyCommand().resolves({});
    aws.apiGateway.on(GetUsagePlanCommand).callsFake(usagePlanFromSeed);
    aws.dynamodb.onAnyCommand().resolves({});
    cognito.onAnyCommand().resolves({});
    const response = await scenario();
    // A scenario that hits a bug of its own would prove nothing about the paths it meant to take.
    expect(response.statusCode).not.toBe(500);
    for (const mock of [aws.apiGateway, aws.dynamodb, aws.secrets, cognito]) made.push(...mock.calls().map((call) => call.args[0] as never));
  }
  return made;
};

const apiKeyRecord = {
  ...createRequest(),
  appKey: '590d83b5c05f',
  state: 'ACTIVE',
  credentialType: 'API_KEY',
  credentialId: 'key1',
  apiIds: ['5aba4csvd4'],
  usagePlanIds: ['1el57v'],
  scopes: [],
};
const clientRecord = {
  ...apiKeyRecord,
  credentialType: 'CLIENT_CREDENTIALS',
  credentialId: 'client1',
  apiIds: ['pay1'],
  usagePlanIds: [],
  scopes: ['payments/read'],
};
const crashed = (credentialType: string) => ({ ...apiKeyRecord, credentialType, state: 'PENDING', claimToken: 'dead', leaseExpiresAt: 1 });
const ours = { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': '590d83b5c05f' };
const post = (handler: typeof create, path: string, body: unknown) => () => handler(proxyEvent({ path, body }), lambdaContext);

/** Answers for every path through the routes: fresh, repeated, taken over, retried, rolled back. */
const scenarios: Record<WebhookRoute, (() => Promise<APIGatewayProxyResult>)[]> = {
  create: [
    () => {
      // A create the SDK retried (cleanup by name) whose link was answered "conflict".
      aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40), $metadata: { attempts: 2 } });
      aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [{ id: 'lost', name: 'portal-590d83b5c05f', tags: ours }] });
      aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('ConflictException', 409));
      aws.apiGateway.on(GetUsagePlanKeyCommand).resolves({ id: 'key1' });
      return post(create, '/v1/createCredentials', createRequest())();
    },
    () => {
      // A link that fails: the key is deleted and the claim released; then the activation fails too.
      aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40) });
      aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('BadRequestException'));
      return post(create, '/v1/createCredentials', createRequest())();
    },
    () => {
      aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40) });
      aws.dynamodb.on(UpdateCommand).rejects(awsError('InternalServerError', 500));
      return post(create, '/v1/createCredentials', createRequest())();
    },
    () => {
      // A repeated create, for an API key and for client credentials.
      aws.dynamodb.on(PutCommand).rejects(conditionFailed());
      aws.dynamodb.on(GetCommand).resolvesOnce({ Item: apiKeyRecord }).resolves({ Item: clientRecord });
      aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40) });
      cognito.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: 'client1', ClientSecret: 's' } });
      return post(create, '/v1/createCredentials', createRequest())().then(
        post(create, '/v1/createCredentials', createRequest({ apis: [{ id: 'pay1', usagePlans: [] }] })),
      );
    },
    () => {
      // A repeated create whose grant changed: held, relinked or rescoped, then recorded.
      aws.dynamodb.on(PutCommand).rejects(conditionFailed());
      aws.dynamodb
        .on(GetCommand)
        .resolvesOnce({ Item: apiKeyRecord })
        .resolves({ Item: { ...clientRecord, scopes: [] } });
      aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40) });
      aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: '1el57v' }] });
      cognito
        .on(DescribeUserPoolClientCommand)
        .resolves({ UserPoolClient: { ClientId: 'client1', ClientName: 'portal-590d83b5c05f', ClientSecret: 's', AllowedOAuthScopes: [] } });
      return post(create, '/v1/createCredentials', createRequest({ apis: withPlans('2fm68w') }))().then(
        post(create, '/v1/createCredentials', createRequest({ apis: [{ id: 'pay1', usagePlans: [] }] })),
      );
    },
    () => {
      // Taking over a crashed create's claim, for each kind, with a retried client create.
      aws.dynamodb
        .on(PutCommand)
        .resolvesOnce({ Attributes: crashed('API_KEY') })
        .resolves({ Attributes: crashed('CLIENT_CREDENTIALS') });
      aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [] });
      aws.apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key1', value: 'v'.repeat(40) });
      cognito.on(ListUserPoolClientsCommand).resolves({ UserPoolClients: [{ ClientId: 'old', ClientName: 'portal-590d83b5c05f' }] });
      cognito.on(CreateUserPoolClientCommand).resolves({ UserPoolClient: { ClientId: 'client1', ClientSecret: 's' }, $metadata: { attempts: 2 } });
      return post(create, '/v1/createCredentials', createRequest())().then(
        post(create, '/v1/createCredentials', createRequest({ apis: [{ id: 'pay1', usagePlans: [] }] })),
      );
    },
  ],
  update: [
    () => {
      aws.dynamodb.on(QueryCommand).resolves({ Items: [apiKeyRecord] });
      aws.dynamodb.on(GetCommand).resolves({ Item: apiKeyRecord });
      aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: '1el57v' }] });
      aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'key1' });
      aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('ConflictException', 409));
      return post(update, '/v1/updateCredentials', {
        ...createRequest({ apis: withPlans('2fm68w') }),
        credentialType: 'API_KEY',
        apiKeyId: 'key1',
      })();
    },
    () => {
      // A move within one API stage whose link is refused: the refusal is explained from the key's plans.
      aws.dynamodb.on(QueryCommand).resolves({ Items: [apiKeyRecord] });
      aws.dynamodb.on(GetCommand).resolves({ Item: apiKeyRecord });
      aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: '1el57v', apiStages: [{ apiId: '5aba4csvd4', stage: 'prod' }] }] });
      aws.apiGateway.on(GetApiKeyCommand).resolves({ id: 'key1' });
      aws.apiGateway.on(CreateUsagePlanKeyCommand).rejects(awsError('BadRequestException'));
      return post(update, '/v1/updateCredentials', {
        ...createRequest({ apis: withPlans('2fm68w') }),
        credentialType: 'API_KEY',
        apiKeyId: 'key1',
      })();
    },
    () => {
      // A key deleted outside the webhook, refused by IAM rather than answered 404: 409 after the list says so.
      aws.dynamodb.on(QueryCommand).resolves({ Items: [apiKeyRecord] });
      aws.dynamodb.on(GetCommand).resolves({ Item: apiKeyRecord });
      aws.apiGateway.on(GetApiKeyCommand).rejects(awsError('AccessDeniedException', 403));
      aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [] });
      return post(update, '/v1/updateCredentials', {
        ...createRequest({ apis: withPlans('2fm68w') }),
        credentialType: 'API_KEY',
        apiKeyId: 'key1',
      })();
    },
    () => {
      aws.dynamodb.on(GetCommand).resolves({ Item: clientRecord });
      cognito
        .on(DescribeUserPoolClientCommand)
        .resolves({ UserPoolClient: { ClientId: 'client1', ClientName: 'portal-590d83b5c05f', AllowedOAuthScopes: [] } });
      return post(update, '/v1/updateCredentials', {
        ...createRequest({ apis: [{ id: 'pay1', usagePlans: [] }] }),
        credentialType: 'CLIENT_CREDENTIALS',
      })();
    },
  ],
  revoke: [
    () => {
      aws.dynamodb.on(QueryCommand).resolves({ Items: [apiKeyRecord] });
      aws.dynamodb.on(GetCommand).resolves({ Item: apiKeyRecord });
      return post(revoke, '/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key1' })();
    },
    () => {
      aws.dynamodb.on(GetCommand).resolves({ Item: clientRecord });
      return post(revoke, '/v1/revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', appSlug: '590d83b5c05f' })();
    },
    () => {
      // A key already gone, refused by IAM (it has no tag any more): the list of our keys proves it gone.
      aws.dynamodb.on(QueryCommand).resolves({ Items: [apiKeyRecord] });
      aws.apiGateway.on(DeleteApiKeyCommand).rejects(awsError('AccessDeniedException', 403));
      aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [] });
      return post(revoke, '/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: 'key1' })();
    },
    () => {
      // Revoking crashed creates of each kind: take the claim, then remove the leftovers.
      aws.dynamodb
        .on(GetCommand)
        .resolvesOnce({ Item: crashed('API_KEY') })
        .resolves({ Item: crashed('CLIENT_CREDENTIALS') });
      aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [{ id: 'lost', name: 'portal-590d83b5c05f', tags: ours }] });
      cognito.on(ListUserPoolClientsCommand).resolves({ UserPoolClients: [{ ClientId: 'old', ClientName: 'portal-590d83b5c05f' }] });
      return post(revoke, '/v1/revokeCredentials', { credentialType: 'API_KEY', appSlug: '590d83b5c05f' })().then(
        post(revoke, '/v1/revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', appSlug: '590d83b5c05f' }),
      );
    },
  ],
  health: [() => health(proxyEvent({ method: 'GET', path: '/v1/health' }), lambdaContext)],
};

describe("each function's IAM role against the AWS calls its code makes", () => {
  it.each(Object.keys(scenarios) as WebhookRoute[])('allows every call the %s function makes on every path through it', async (route) => {
    // Act
    const calls = await callsDuring(scenarios[route]);

    // Assess
    const needed = calls.map(permissionFor);
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((permission) => !allows(granted(route), permission))).toEqual([]);
  });

  it.each(['create', 'update', 'revoke', 'health'] as WebhookRoute[])(
    'lets the %s function read or delete no API key the webhook did not tag as its own',
    (route) => {
      // Prepare
      const key = 'arn:aws:apigateway:eu-west-1::/apikeys/someone-elses';

      // Act + Assess
      for (const action of ['apigateway:GET', 'apigateway:DELETE']) {
        expect(allows(granted(route), { action, resource: key, context: {} })).toBe(false);
        expect(allows(granted(route), { action, resource: key, context: { 'aws:ResourceTag/managed-by': 'someone-else' } })).toBe(false);
      }
    },
  );

  it('lets the create function tag API keys of its Region only, however the tagged ARN is encoded', () => {
    // Prepare
    const tags = (arn: string) => ({ action: 'apigateway:PUT', resource: `arn:aws:apigateway:eu-west-1::/tags/${arn}` });

    // Act + Assess
    expect(allows(granted('create'), tags('arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Fapikeys%2Fk1'))).toBe(true);
    expect(allows(granted('create'), tags('arn%3aaws%3aapigateway%3aeu-west-1%3a%3a%2fapikeys%2fk1'))).toBe(true);
    expect(allows(granted('create'), tags('arn:aws:apigateway:eu-west-1::/apikeys/k1'))).toBe(true);
    expect(allows(granted('create'), tags('arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Frestapis%2Fa1'))).toBe(false);
    expect(allows(granted('create'), tags('arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Fusageplans%2Fp1'))).toBe(false);
    expect(allows(granted('create'), tags('arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapikeys%2Fk1'))).toBe(false);
  });

  it('needs, across its paths, every action the create role grants (nothing granted is unused)', async () => {
    // Act
    const actions = new Set((await callsDuring(scenarios.create)).map((command) => permissionFor(command).action));

    // Assess: CreateApiKey with tags is also authorized as a tagging PUT, which no SDK call names.
    const grantedActions = granted('create').flatMap((statement) => [statement.Action].flat());
    expect(grantedActions.filter((action) => !actions.has(action) && action !== 'apigateway:PUT')).toEqual([]);
  });
});

describe("the history stream consumer's IAM role against the AWS calls its code makes", () => {
  const historyArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/history';
  const consumerStatements = () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Consumer', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const registry = Table.fromTableAttributes(stack, 'Registry', { tableArn, tableStreamArn: `${tableArn}/stream/2026-01-01T00:00:00.000` });
    const history = new ChangeHistory(stack, 'History', Table.fromTableAttributes(stack, 'HistoryTable', { tableArn: historyArn }));
    const code = Code.fromInline('export const handler = () => {};');
    new HistoryStream(stack, 'HistoryStream', { code, registry, history, retentionDays: 30, logRetention: RetentionDays.ONE_MONTH });
    return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
  };

  it('allows every call it makes recording a batch, and none on the registry’s items', async () => {
    // Prepare: the consumer loads with its table named, as its function's environment does.
    resetAwsMocks();
    aws.dynamodb.onAnyCommand().resolves({});
    process.env.HISTORY_TABLE_NAME = 'history';
    const { handler } = await import('../../../lambda/handlers/record-history.ts');
    const change = (action: string) => ({
      appKey: { S: '590d83b5c05f' },
      state: { S: 'ACTIVE' },
      credentialType: { S: 'API_KEY' },
      credentialId: { S: 'key1' },
      lastChange: {
        M: {
          action: { S: action },
          source: { S: 'POST /v1/updateCredentials' },
          principal: { S: 'basic:portal' },
          requestId: { S: 'r1' },
          at: { S: '2026-01-01T00:00:00.000Z' },
          changeId: { S: action },
        },
      },
    });
    const record = (sequence: string, action: string) => ({
      eventName: 'MODIFY' as const,
      dynamodb: { SequenceNumber: sequence, Keys: { appKey: { S: '590d83b5c05f' } }, OldImage: change('HOLD'), NewImage: change(action) },
    });

    // Act
    const answer = await handler({ Records: [record('1', 'UPDATE'), record('2', 'REVOKE')] });
    const calls = aws.dynamodb.calls().map((call) => call.args[0] as unknown as { constructor: { name: string }; input: { TableName?: string } });

    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(calls.map((call) => `${call.constructor.name} ${call.input.TableName}`)).toEqual(['PutCommand history', 'PutCommand history']);
    const statements = consumerStatements();
    expect(allows(statements, { action: 'dynamodb:PutItem', resource: historyArn })).toBe(true);
    for (const action of ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']) {
      expect(allows(statements, { action, resource: tableArn })).toBe(false);
    }
  });
});

describe('the roles of a webhook whose API keys live in several places', () => {
  const targetRoleArn = 'arn:aws:iam::222222222222:role/portal-credentials-target';
  const grantedAcrossPlaces = (route: WebhookRoute) =>
    routePermissions(route, {
      basicAuthSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:basic-auth',
      tableArn,
      credentialIdIndexArn: `${tableArn}/index/byCredentialId`,
      apiKeys: {
        partition: 'aws',
        region: 'eu-west-1',
        usagePlanIds: ['1el57v', '2fm68w'],
        otherRegions: [{ region: 'us-east-1', usagePlanIds: ['1el57v', '2fm68w'] }],
        roleArns: [targetRoleArn],
      },
      userPoolArn: poolArn,
    }).map((statement) => statement.toStatementJson() as Statement);
  /** The API Gateway calls a route makes, as they would be made in `region`. */
  const apiGatewayCallsIn = async (route: WebhookRoute, region: string) =>
    (await callsDuring(scenarios[route]))
      .map(permissionFor)
      .filter((permission) => permission.action.startsWith('apigateway:'))
      .map((permission) => ({ ...permission, resource: permission.resource.replace(':eu-west-1::', `:${region}::`) }));

  it.each(['create', 'update', 'revoke'] as WebhookRoute[])(
    'allows every API Gateway call the %s function makes in each Region of its own account a target lists, and in no other Region',
    async (route) => {
      // Act
      const inTarget = await apiGatewayCallsIn(route, 'us-east-1');
      const elsewhere = await apiGatewayCallsIn(route, 'ap-south-1');

      // Assess
      expect(inTarget.length).toBeGreaterThan(0);
      expect(inTarget.filter((permission) => !allows(grantedAcrossPlaces(route), permission))).toEqual([]);
      expect(elsewhere.filter((permission) => allows(grantedAcrossPlaces(route), permission))).toEqual([]);
    },
  );

  it("lets the create function tag new API keys in each of its account's Regions a target lists", () => {
    // Prepare
    const tags = (region: string) => ({
      action: 'apigateway:PUT',
      resource: `arn:aws:apigateway:${region}::/tags/arn%3Aaws%3Aapigateway%3A${region}%3A%3A%2Fapikeys%2Fk1`,
    });

    // Act + Assess
    expect(allows(grantedAcrossPlaces('create'), tags('us-east-1'))).toBe(true);
    expect(allows(grantedAcrossPlaces('create'), tags('ap-south-1'))).toBe(false);
  });

  it.each(['create', 'update', 'revoke'] as WebhookRoute[])(
    'lets the %s function assume exactly the roles other accounts provide, with no condition of its own',
    (route) => {
      // Act
      const assume = grantedAcrossPlaces(route).filter((statement) => [statement.Action].flat().includes('sts:AssumeRole'));

      // Assess: the external id is the other account's trust policy's to check.
      expect(assume).toEqual([expect.objectContaining({ Resource: targetRoleArn })]);
      expect(assume[0]?.Condition).toBeUndefined();
      expect(allows(grantedAcrossPlaces(route), { action: 'sts:AssumeRole', resource: 'arn:aws:iam::222222222222:role/other' })).toBe(false);
    },
  );

  it('lets the health function assume no role', () => {
    // Act + Assess
    expect(allows(grantedAcrossPlaces('health'), { action: 'sts:AssumeRole', resource: targetRoleArn })).toBe(false);
  });

  it('lets the role another account deploys make every API Gateway call the create, update and revoke functions make', async () => {
    // Prepare: the role of account 222222222222 for us-east-1, naming the plans the scenarios link.
    const stack = new Stack(new App(), 'Target', { env: { account: '222222222222', region: 'us-east-1' } });
    new PortalCredentialsTargetRole(stack, 'Target', {
      webhookAccount: '123456789012',
      externalId: 'portal-credentials-Webhook',
      regions: ['us-east-1'],
      usagePlanIds: ['222222222222/us-east-1/1el57v', '222222222222/us-east-1/2fm68w'],
    });
    const partitionAws = (value: unknown): string =>
      typeof value === 'string'
        ? value
        : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'aws')).join('');
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .map((statement) => ({ ...statement, Resource: [statement.Resource].flat().map(partitionAws) }));

    for (const route of ['create', 'update', 'revoke'] as WebhookRoute[]) {
      // Act
      const needed = await apiGatewayCallsIn(route, 'us-east-1');

      // Assess
      expect(needed.filter((permission) => !allows(statements, permission))).toEqual([]);
      expect(allows(statements, { action: 'apigateway:GET', resource: 'arn:aws:apigateway:us-east-1::/apikeys/k1', context: {} })).toBe(false);
    }
  });
});

describe("the drift audit's IAM role against the Service Quotas calls its code makes", () => {
  const auditStatements = () => {
    const stack = new Stack(new App(), 'Audit', { env: { account: '123456789012', region: 'eu-west-1' } });
    new DriftAudit(stack, 'DriftAudit', {
      environment: {},
      code: Code.fromInline('export const handler = () => {};'),
      registry: Table.fromTableAttributes(stack, 'Registry', { tableArn }),
      usagePlanIds: ['1el57v', '2fm68w'],
      userPoolArn: poolArn,
      schedule: Schedule.rate(Duration.days(1)),
      logRetention: RetentionDays.ONE_MONTH,
      dashboard: new Dashboard(stack, 'Dashboard'),
    });
    return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
  };

  it("allows every call the scheduled audit makes reading the pool's quota of app clients, applied and AWS's default", async () => {
    // Prepare: Service Quotas lists no applied value, so both lists are read, each over two pages.
    resetAwsMocks();
    cognito.reset();
    aws.dynamodb.on(ScanCommand).resolves({ Items: [] });
    aws.apiGateway.onAnyCommand().resolves({ items: [] });
    cognito.onAnyCommand().resolves({ UserPoolClients: [] });
    const serviceQuotas = mockClient(ServiceQuotasClient);
    const page = (NextToken?: string) => ({ Quotas: [], ...(NextToken ? { NextToken } : {}) });
    serviceQuotas.on(ListServiceQuotasCommand).resolvesOnce(page('p2')).resolves(page());
    serviceQuotas.on(ListAWSDefaultServiceQuotasCommand).resolvesOnce(page('p2')).resolves(page());
    const { handler: audit } = await import('../../../lambda/handlers/audit.ts');

    // Act
    await audit();
    const needed = serviceQuotas.calls().map((call) => ({
      action: `servicequotas:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`,
      // Service Quotas' List actions support no resource-level permission: IAM authorizes them on all resources.
      resource: '*',
    }));
    serviceQuotas.restore();

    // Assess
    expect(needed.length).toBeGreaterThanOrEqual(4);
    expect(needed.filter((permission) => !allows(auditStatements(), permission))).toEqual([]);
  }, 30_000);
});
