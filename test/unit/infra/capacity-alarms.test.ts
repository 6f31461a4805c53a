import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type MonitoredCapacityGauge, WebhookMonitoring } from '../../../infra/webhook-monitoring.ts';

const gauges: MonitoredCapacityGauge[] = [
  { quota: 'apiKeys', place: '123456789012/eu-west-1' },
  { quota: 'apiKeys', place: '222222222222/us-east-1' },
  { quota: 'appClients', place: 'eu-west-1_AbC123' },
];

/** A monitoring of a bare API, with `capacityGauges`, in a stack of its own. */
const monitoring = (capacityGauges?: readonly MonitoredCapacityGauge[], options: { alarmAction?: boolean } = {}) => {
  const stack = new Stack();
  const api = new apigateway.RestApi(stack, 'Api');
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const construct = new WebhookMonitoring(stack, 'Monitoring', {
    api,
    routes: [],
    metricsNamespace: 'PortalCredentialsWebhook',
    requestDimensions: ['service', 'route', 'outcome', 'credentialType'],
    ...(capacityGauges ? { capacityGauges } : {}),
    ...(options.alarmAction ? { alarmAction: new SnsAction(new sns.Topic(stack, 'Topic')) } : {}),
  });
  return { construct, template: Template.fromStack(stack) };
};

/** The metric `name` of `gauge` as an alarm's metric math reads it. */
const gaugeMetric = (id: string, name: string, gauge: MonitoredCapacityGauge) =>
  Match.objectLike({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: {
        Namespace: 'PortalCredentialsWebhook',
        MetricName: name,
        // Exactly the dimensions Powertools publishes (CDK writes them sorted by name).
        Dimensions: [
          { Name: 'place', Value: gauge.place },
          { Name: 'quota', Value: gauge.quota },
          { Name: 'service', Value: 'portal-credentials-webhook' },
        ],
      },
      Period: 300,
      Stat: 'Maximum',
    },
  });

describe('capacity alarms and widgets', () => {
  it.each(gauges)('alarms when $quota in $place reach 80 % of the limit published with them', (gauge) => {
    // Act
    const { template } = monitoring(gauges);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp(`${gauge.place.replace(/[/]/g, '.')} are at 80 %`),
      Threshold: 80,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      // Published when a gauge changes: a quiet spell keeps the alarm's state instead of clearing it.
      TreatMissingData: 'ignore',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * used / limit', ReturnData: true }),
        gaugeMetric('used', 'CapacityUsed', gauge),
        gaugeMetric('limit', 'CapacityLimit', gauge),
      ]),
    });
  });

  it('names each alarm after its quota, the name docs/operators.md gives its runbook', () => {
    // Act
    const { construct } = monitoring(gauges);

    // Assess
    const capacity = construct.alarms.filter((alarm) => alarm.node.id.endsWith('NearQuota'));
    expect(capacity.map((alarm) => alarm.node.id)).toEqual(['ApiKeysNearQuota', 'ApiKeysNearQuota', 'AppClientsNearQuota']);
  });

  it('says which quota cannot be raised and which can', () => {
    // Act
    const { template } = monitoring(gauges);

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^API keys in 123456789012/eu-west-1 .*a quota AWS does not raise'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^App clients in user pool eu-west-1_AbC123 .*Raise the quota in Service Quotas'),
    });
  });

  it('gives each gauge a dashboard widget showing use, limit and percentage', () => {
    // Act
    const { template } = monitoring(gauges);

    // Assess
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of ['API keys in 123456789012/eu-west-1', 'API keys in 222222222222/us-east-1', 'App clients in user pool eu-west-1_AbC123']) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    expect(body.match(/100 \* used \/ limit/g)).toHaveLength(3);
  });

  it('sends the capacity alarms to the alarm action, like every other alarm', () => {
    // Act
    const { construct } = monitoring(gauges, { alarmAction: true });

    // Assess
    for (const alarm of construct.alarms) expect(alarm.node.defaultChild).toMatchObject({ alarmActions: [expect.anything()] });
  });

  it('adds nothing when the deployment counts no gauges', () => {
    // Act
    const { construct, template } = monitoring();

    // Assess
    expect(construct.alarms.filter((alarm) => alarm.node.id.endsWith('NearQuota'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('CapacityUsed');
  });

  it('refuses a gauge of a quota it does not know, and the same gauge twice', () => {
    // Assess
    expect(() => monitoring([{ quota: 'usagePlans' as never, place: 'x' }])).toThrow(/unknown quota "usagePlans"/);
    expect(() => monitoring([gauges[0]!, gauges[0]!])).toThrow(/capacityGauges lists apiKeys in 123456789012\/eu-west-1 twice/);
  });

  it('is an alarm of the CloudWatch library, so the alarm status widget lists it', () => {
    // Act
    const { construct } = monitoring(gauges);

    // Assess
    expect(construct.alarms.every((alarm) => alarm instanceof cloudwatch.Alarm)).toBe(true);
    expect(construct.alarms).toHaveLength(1 + gauges.length);
  });
});
