import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSettings } from '../../../infra/settings.ts';
import { buildStack, cdkJson, nagFindings, testEnv } from '../../helpers/webhook-stack.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string; DependsOn?: string[] };

describe('what a teardown keeps', () => {
  let resources: Record<string, Resource>;
  beforeAll(() => {
    resources = Template.fromStack(buildStack({ bundle: false, env: testEnv }).stack).toJSON().Resources;
  });

  it('keeps everything a live credential needs, and the account-wide API Gateway role, nothing else', () => {
    // Act
    const kept = Object.values(resources)
      .filter((resource) => resource.DeletionPolicy !== undefined && resource.DeletionPolicy !== 'Delete')
      .map((resource) => resource.Type)
      .sort();

    // Assess
    expect(kept).toEqual([
      'AWS::ApiGateway::Account',
      'AWS::Cognito::UserPool',
      'AWS::Cognito::UserPoolDomain',
      'AWS::Cognito::UserPoolResourceServer',
      'AWS::DynamoDB::Table', // the registry
      'AWS::DynamoDB::Table', // the history
      'AWS::IAM::Role',
    ]);
  });

  it('keeps them on a teardown and a replacement, but not when the first deployment rolls back', () => {
    // Act
    const kept = Object.values(resources).filter((resource) => resource.DeletionPolicy !== undefined && resource.DeletionPolicy !== 'Delete');

    // Assess: plain Retain would leave a table and a pool to delete by hand after each failed first deploy.
    for (const resource of kept)
      expect([resource.Type, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([resource.Type, 'RetainExceptOnCreate', 'Retain']);
  });

  it("manages both APIs' execution-log groups, with the retention, before their stages exist", () => {
    // Act
    const stages = Object.values(resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Stage');
    const executionLogs = Object.entries(resources).filter(
      ([, resource]) =>
        resource.Type === 'AWS::Logs::LogGroup' && JSON.stringify(resource.Properties.LogGroupName ?? '').includes('API-Gateway-Execution-Logs_'),
    );

    // Assess
    expect(stages).toHaveLength(2);
    expect(executionLogs).toHaveLength(2);
    for (const stage of stages) {
      const [logicalId, group] = executionLogs.find(([, candidate]) =>
        JSON.stringify(candidate.Properties.LogGroupName).includes(JSON.stringify(stage.Properties.RestApiId)),
      )!;
      expect(group.Properties).toMatchObject({
        RetentionInDays: 30,
        LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', stage.Properties.RestApiId, '/prod']] },
      });
      expect(group.DeletionPolicy).toBe('Delete');
      expect(stage.DependsOn).toContain(logicalId);
    }
  });
});

describe('a redeploy onto the table and pool a teardown kept', () => {
  const redeploy = (settings: Record<string, unknown>) => ({
    ...settings,
    registry: {
      tableName: 'PortalCredentialsWebhook-WebhookRegistry1A2B3C4D-XYZ',
      streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/PortalCredentialsWebhook-WebhookRegistry1A2B3C4D-XYZ/stream/2026-01-01T00:00:00.000',
    },
    history: { tableName: 'PortalCredentialsWebhook-WebhookHistoryTable5E6F7A8B-XYZ' },
    clientCredentials: {
      userPoolId: 'eu-west-1_Kept123',
      domainPrefix: 'portalcredentialswebhook-123456789012',
      existingDomain: true,
      existingResourceServers: true,
    },
  });

  it('creates no registry, pool, domain or resource server, and points the functions at the kept ones', () => {
    // Act
    const { stack } = buildStack({ bundle: false, env: testEnv, change: redeploy });
    const template = Template.fromStack(stack);

    // Assess
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolDomain', 'AWS::Cognito::UserPoolResourceServer'])
      template.resourceCountIs(type, 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          REGISTRY_TABLE_NAME: 'PortalCredentialsWebhook-WebhookRegistry1A2B3C4D-XYZ',
          HISTORY_TABLE_NAME: 'PortalCredentialsWebhook-WebhookHistoryTable5E6F7A8B-XYZ',
          USER_POOL_ID: 'eu-west-1_Kept123',
          TOKEN_URL: 'https://portalcredentialswebhook-123456789012.auth.eu-west-1.amazoncognito.com/oauth2/token',
        }),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(
      ':table/PortalCredentialsWebhook-WebhookRegistry1A2B3C4D-XYZ/index/byCredentialId',
    );
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(':userpool/eu-west-1_Kept123');
    expect(nagFindings(stack)).toEqual([]);
  });

  it.each([
    ['a table name DynamoDB refuses', { registry: { tableName: 'a b' } }, /registry\.tableName/],
    [
      'kept resource servers without a kept pool',
      { clientCredentials: { existingResourceServers: true } },
      /clientCredentials\.existingResourceServers: needs clientCredentials\.userPoolId/,
    ],
  ])('refuses at synth, naming the setting, %s', (_case, change, message) => {
    // Act + Assess
    expect(() => parseSettings({ ...(cdkJson.context.portalCredentialsWebhook as object), ...change })).toThrow(message);
  });
});
