import { GetApiKeysCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { aws, resetAwsMocks } from '../../helpers/aws-mocks.ts';
import { lambdaContext, proxyEvent } from '../../helpers/portal.ts';
import { buildStack, testEnv } from '../../helpers/webhook-stack.ts';

// Metrics on (the unit environment turns them off), before the handler loads its Metrics.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});
const { handler: health } = await import('../../../lambda/handlers/health.ts');
const { handler: audit } = await import('../../../lambda/handlers/audit.ts');
const { publishCapacityLevel } = await import('../../../lambda/provisioning/capacity-metrics.ts');

/** A gauge of each quota, as the functions publish them and the stack monitors them. */
const gauges = [
  { quota: 'apiKeys', place: '123456789012/eu-west-1' },
  { quota: 'appClients', place: 'eu-west-1_AbC123' },
] as const;

interface EmittedMetric {
  namespace: string;
  name: string;
  dimensions: string[];
}

/** The metrics Powertools wrote to stdout as CloudWatch embedded metric format while `act` ran. */
const metricsEmittedDuring = async (act: () => Promise<unknown>): Promise<EmittedMetric[]> => {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) => {
      const emf = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } };
      return emf._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Dimensions.flatMap((dimensions) =>
          directive.Metrics.map((metric) => ({ namespace: directive.Namespace, name: metric.Name, dimensions: [...dimensions].sort() })),
        ),
      );
    });
};

/** The dashboards' bodies as CloudFormation assembles them, with each reference written as a placeholder, as one list of widgets. */
const dashboardBody = (template: Template) => ({
  widgets: Object.values(template.findResources('AWS::CloudWatch::Dashboard')).flatMap((dashboard) => {
    const parts = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return (
      JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'REF')).join('')) as {
        widgets: { properties: { metrics?: unknown[][] } }[];
      }
    ).widgets;
  }),
});

interface AlarmMetric {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string }[];
}

/** Every metric an alarm reads: its own, or each metric of its metric math. */
const alarmMetrics = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap((alarm) => {
    const properties = alarm.Properties as AlarmMetric & { Metrics?: { MetricStat?: { Metric: AlarmMetric } }[] };
    return properties.Metrics ? properties.Metrics.flatMap((query) => (query.MetricStat ? [query.MetricStat.Metric] : [])) : [properties];
  });

describe('the dashboard and alarms read the metrics the functions emit', () => {
  let template: Template;
  let emitted: EmittedMetric[];
  beforeAll(async () => {
    // Prepare + Act: a request answered 204 and one refused 401, each ending with its metric,
    // and a scheduled audit of an empty registry and Region.
    resetAwsMocks();
    aws.dynamodb.on(ScanCommand).resolves({ Items: [] });
    aws.apiGateway.on(GetApiKeysCommand).resolves({ items: [] });
    aws.apiGateway.on(GetUsagePlansCommand).resolves({ items: [] });
    emitted = await metricsEmittedDuring(async () => {
      await health(proxyEvent({ method: 'GET', path: '/v1/health' }), lambdaContext);
      await health(proxyEvent({ method: 'GET', path: '/v1/health', headers: { Authorization: 'Basic d3Jvbmc6d3Jvbmc=' } }), lambdaContext);
      await audit();
      for (const gauge of gauges) publishCapacityLevel(gauge, { used: 3, limit: 10 });
    });
    const { stack } = buildStack({ bundle: false, env: testEnv });
    template = Template.fromStack(stack);
  }, 60_000);
  afterEach(() => vi.restoreAllMocks());

  it('captures the Requests metric with its dimensions', () => {
    // Assess
    expect(emitted).toContainEqual({
      namespace: 'PortalCredentialsWebhook',
      name: 'Requests',
      dimensions: ['credentialType', 'outcome', 'route', 'service'],
    });
  });

  it('searches each webhook metric with exactly the dimension set it is emitted with', () => {
    // Act
    const searches = dashboardBody(template)
      .widgets.flatMap((widget) => widget.properties.metrics ?? [])
      .flatMap((metric) => metric.filter((part): part is { expression: string } => typeof part === 'object' && part !== null && 'expression' in part))
      .map(({ expression }) => /^SEARCH\('\{([^}]*)\} MetricName="([^"]+)"'/.exec(expression))
      .filter((match) => match !== null)
      .map((match) => {
        const [namespace = '', ...dimensions] = match[1]!.split(',');
        return { namespace, name: match[2]!, dimensions: dimensions.sort() };
      });

    // Assess
    expect(searches.length).toBeGreaterThan(0);
    for (const search of searches.filter(({ namespace }) => namespace === 'PortalCredentialsWebhook')) expect(emitted).toContainEqual(search);
  });

  it('names, in every widget metric and alarm of the webhook namespace, a metric and dimension set it emits', () => {
    // Act
    const widgetMetrics = dashboardBody(template)
      .widgets.flatMap((widget) => widget.properties.metrics ?? [])
      .filter((metric) => metric[0] === 'PortalCredentialsWebhook')
      .map((metric) => {
        const names = metric.slice(2).filter((part) => typeof part === 'string');
        return { namespace: metric[0], name: metric[1], dimensions: names.filter((_, index) => index % 2 === 0).sort() };
      });
    const alarms = alarmMetrics(template)
      .filter((alarm) => alarm.Namespace === 'PortalCredentialsWebhook')
      .map((alarm) => ({
        namespace: alarm.Namespace,
        name: alarm.MetricName,
        dimensions: (alarm.Dimensions ?? []).map((dimension) => dimension.Name).sort(),
      }));

    // Assess
    for (const metric of [...widgetMetrics, ...alarms]) expect(emitted).toContainEqual(metric);
    const capacity = { namespace: 'PortalCredentialsWebhook', dimensions: ['place', 'quota', 'service'] };
    for (const name of ['CapacityUsed', 'CapacityLimit']) {
      expect(widgetMetrics).toContainEqual({ ...capacity, name });
      expect(alarms).toContainEqual({ ...capacity, name });
    }
  });

  it('captures the capacity metrics of each gauge with their dimensions', () => {
    // Assess
    for (const name of ['CapacityUsed', 'CapacityLimit']) {
      expect(emitted).toContainEqual({ namespace: 'PortalCredentialsWebhook', name, dimensions: ['place', 'quota', 'service'] });
    }
  });
});
