import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { PortalCredentialsWebhookStack } from '../../../infra/portal-credentials-webhook-stack.ts';
import { parseSettings, SETTINGS_CONTEXT_KEY } from '../../../infra/settings.ts';
import { gaugeKeyPattern } from '../../../infra/drift-audit.ts';
import { apiKeysGauge, appClientsGauge, gaugeKey } from '#provisioning/capacity';

const cdkJson = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, Record<string, unknown>>;
};

/** The stack from cdk.json's settings, changed as a platform team would; functions not bundled (templates only). */
const synthesize = (change: Record<string, unknown> = {}) => {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const settings = parseSettings({ ...cdkJson.context[SETTINGS_CONTEXT_KEY], ...change });
  const stack = new PortalCredentialsWebhookStack(app, 'Webhook', { settings, env: { account: '123456789012', region: 'eu-west-1' } });
  const logicalId = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  return { stack, template: Template.fromStack(stack), logicalId };
};

describe('the scheduled drift audit in the stack', () => {
  const { stack, template, logicalId } = synthesize();
  const audit = stack.webhook.driftAudit!;

  it("audits this stack's API keys: its function gets DEPLOYMENT_ID, the stack's name the routes tag their keys with", () => {
    // Act
    const resources = template.toJSON().Resources;
    const variablesOf = (construct: IConstruct) => resources[logicalId(construct)].Properties.Environment.Variables;

    // Assess
    expect(variablesOf(audit.function)).toMatchObject({ DEPLOYMENT_ID: 'Webhook' });
    expect(variablesOf(stack.webhook.functions.create).DEPLOYMENT_ID).toBe('Webhook');
    template.hasOutput('DeploymentId', { Value: 'Webhook' });
  });

  it('runs the audit function daily from an EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(audit.function), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('drift audit'),
      Timeout: 900,
      Runtime: 'nodejs24.x',
    });
  });

  it('lets the audit read the registry, the API keys, the plans’ links and the app clients, and write nothing but the capacity gauges', () => {
    const roleId = (template.toJSON().Resources[logicalId(audit.function)].Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[] }[]);
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(
      statements
        .map((statement) => statement.Sid)
        .filter(Boolean)
        .sort(),
    ).toEqual(['ReadApiKeys', 'ReadAppClients', 'ReadAppClientsQuota', 'ReadRegistry', 'ReadUsagePlanLinks', 'ReconcileCapacityGauges']);
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:Scan', 'apigateway:GET', 'cognito-idp:ListUserPoolClients', 'cognito-idp:DescribeUserPoolClient']),
    );
    // Logs and traces aside, nothing that writes but the gauges' items: keys the gauges are written under, never an app's.
    const gauges = statements.filter((statement) => statement.Sid === 'ReconcileCapacityGauges');
    const writes = statements
      .filter((statement) => !gauges.includes(statement))
      .flatMap((statement) => [statement.Action].flat())
      .filter((action) => !/^(logs|xray):/.test(action) && !/:(Get|Scan|List|Describe)/.test(action) && action !== 'apigateway:GET');
    expect(writes).toEqual([]);
    expect(gauges).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [gaugeKeyPattern] } },
      }),
    ]);
    const pattern = new RegExp(`^${gaugeKeyPattern.replace('*', '.*')}$`);
    for (const gauge of [apiKeysGauge({ account: '222222222222', region: 'eu-west-1' }), appClientsGauge('eu-west-1_AbC123')]) {
      expect(gaugeKey(gauge)).toMatch(pattern);
    }
    expect('app-slug').not.toMatch(pattern);
  });

  it('alarms when the audit finds any drift, and when it fails', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'orphan + gone + grant_mismatch + stuck_claim + disabled_key' }),
        Match.objectLike({
          Id: 'stuck_claim',
          MetricStat: Match.objectLike({
            Metric: {
              Namespace: 'PortalCredentialsWebhook',
              MetricName: 'Drift',
              Dimensions: Match.arrayWith([{ Name: 'kind', Value: 'STUCK_CLAIM' }]),
            },
            Period: 86_400,
          }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^The drift audit failed'),
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(audit.function) } }],
    });
  });

  it('alarms when no audit completed for two days: missing data is breaching, never read as no drift', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PortalCredentialsWebhook',
      MetricName: 'AuditCompleted',
      Dimensions: [{ Name: 'service', Value: 'portal-credentials-webhook' }],
      Statistic: 'Sum',
      Period: 86_400,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'breaching',
    });
    expect(logicalId(audit.notRunAlarm)).toMatch(/AuditNotRunAlarm/);
  });

  it('counts in the drift alarm only the kinds of drift, never a change in progress or an acknowledged finding', () => {
    // Act
    const driftAlarm = template.toJSON().Resources[logicalId(audit.alarm)].Properties as { Metrics: { MetricStat?: { Metric: unknown } }[] };
    const metricsSummed = driftAlarm.Metrics.flatMap((query) => (query.MetricStat ? [JSON.stringify(query.MetricStat.Metric)] : []));

    // Assess
    expect(metricsSummed).toHaveLength(5);
    for (const metric of metricsSummed) expect(metric).toContain('"MetricName":"Drift"');
    expect(metricsSummed.join()).not.toMatch(/IN_PROGRESS|ChangesInProgress|AcknowledgedDrift/);
  });

  it('shows the drift counts and the audit’s alarms on the dashboard', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('Drift found by the daily audit');
    expect(body).toContain('DISABLED_KEY');
    expect(body).toContain(logicalId(audit.alarm));
    expect(body).toContain(logicalId(audit.notRunAlarm));
    expect(body).toContain('ChangesInProgress');
    expect(body).toContain('AcknowledgedDrift');
  });

  it('keeps a history table by app and time, expiring entries by TTL after the configured retention, retained with the stack', () => {
    const { template: kept, stack: keptStack } = synthesize({ history: { retentionDays: 90 } });
    kept.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'appKey', KeyType: 'HASH' },
          { AttributeName: 'sortKey', KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    });
    const createFunction = kept.toJSON().Resources[keptStack.getLogicalId(keptStack.webhook.functions.create.node.defaultChild as CfnElement)];
    expect(createFunction.Properties.Environment.Variables.HISTORY_RETENTION_DAYS).toBe('90');
  }, 30_000);
});

describe('the scheduled audit of a client-credentials-only deployment', () => {
  it('reads the app clients with the settings the routes get, and no API key', () => {
    // Prepare
    const { stack, template, logicalId } = synthesize({
      credentialPolicy: { defaultType: 'CLIENT_CREDENTIALS', apis: { 'sample-payments': { scopes: ['portal-sample/payments.read'] } } },
    });
    const resources = template.toJSON().Resources;
    const auditFunction = resources[logicalId(stack.webhook.driftAudit!.function)].Properties;
    const routeFunction = resources[logicalId(stack.webhook.functions.create)].Properties;
    const roleId = (auditFunction.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

    // Act
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[] }[]);

    // Assess
    expect(
      statements
        .map((statement) => statement.Sid)
        .filter(Boolean)
        .sort(),
    ).toEqual(['ReadAppClients', 'ReadAppClientsQuota', 'ReadRegistry', 'ReconcileCapacityGauges']);
    expect(statements.flatMap((statement) => [statement.Action].flat()).filter((action) => action.startsWith('apigateway:'))).toEqual([]);
    expect(auditFunction.Environment.Variables).toEqual(routeFunction.Environment.Variables);
    expect(auditFunction.Environment.Variables).toHaveProperty('USER_POOL_ID');
    expect(auditFunction.Environment.Variables).toHaveProperty('TOKEN_URL');
    expect(auditFunction.Environment.Variables).not.toHaveProperty('USAGE_PLAN_IDS');
  }, 30_000);
});

describe('turning the audit off in cdk.json', () => {
  it('leaves out the function, its schedule and its alarms', () => {
    const { template, stack } = synthesize({ driftAudit: { enabled: false } });
    expect(stack.webhook.driftAudit).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('drift audit');
  }, 30_000);

  it('takes another schedule, and refuses one EventBridge would not', () => {
    synthesize({ driftAudit: { schedule: 'cron(0 6 * * ? *)' } }).template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
    });
    expect(() => synthesize({ driftAudit: { schedule: 'daily' } })).toThrow(/driftAudit\.schedule: must be an EventBridge schedule/);
  }, 30_000);
});

describe("the scheduled audit's read of the pool's quota of app clients", () => {
  it('lets the audit list Service Quotas’ applied and default quotas, read-only, and nothing else of Service Quotas', () => {
    // Prepare
    const { stack, template, logicalId } = synthesize();
    const roleId = (template.toJSON().Resources[logicalId(stack.webhook.driftAudit!.function)].Properties.Role as { 'Fn::GetAtt': [string] })[
      'Fn::GetAtt'
    ][0];

    // Act
    const quotaStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('servicequotas:')));

    // Assess: the List actions support no resource-level permission, so '*' (acknowledged in nag-suppressions.ts).
    expect(quotaStatements).toEqual([
      expect.objectContaining({ Action: ['servicequotas:ListServiceQuotas', 'servicequotas:ListAWSDefaultServiceQuotas'], Resource: '*' }),
    ]);
  }, 30_000);
});
