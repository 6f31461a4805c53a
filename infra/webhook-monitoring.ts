import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { serviceName } from '#commons/service';
import { type CapacityQuota, capacityAlarmPercent, capacityMetricNames, capacityQuotas } from '#provisioning/capacity-names';

/** One webhook route as the dashboard shows it. */
export interface MonitoredRoute {
  /** Short name used in labels and construct ids, e.g. `CreateCredentials`. */
  readonly name: string;
  /** HTTP method of the route. */
  readonly method: string;
  /** Resource path of the route, e.g. `/v1/createCredentials`. */
  readonly path: string;
  /** The function serving the route. */
  readonly function: lambda.IFunction;
}

/** A capacity gauge the functions publish (`publishCapacityLevel`): one alarm and one dashboard widget each. */
export interface MonitoredCapacityGauge {
  /**
   * `apiKeys` (API keys per account and Region), `appClients` (app clients per user pool), `usagePlansPerKey`
   * (the most plans a key of the place is granted) or `scopesPerClient` (the most scopes a client of the pool is granted).
   */
  readonly quota: CapacityQuota;
  /** Where the quota applies: `account/region` for API keys and their plans, the user pool id for app clients and their scopes. */
  readonly place: string;
}

export interface WebhookMonitoringProps {
  /** The webhook's REST API. */
  readonly api: apigateway.RestApi;
  /** The webhook's routes. */
  readonly routes: readonly MonitoredRoute[];
  /** The CloudWatch namespace of the functions' Powertools metrics. */
  readonly metricsNamespace: string;
  /**
   * The dimensions the functions' `Requests` metric carries, all of them: in a search
   * expression the braces name the exact set of dimensions a metric has.
   */
  readonly requestDimensions: readonly string[];
  /**
   * Whether the stage publishes per-method metrics; without them the per-route
   * graphs show the functions' metrics instead.
   *
   * @default true
   */
  readonly detailedMetrics?: boolean;
  /**
   * Name of the dashboard.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * The capacity gauges the deployment counts: each alarms at 80 % of its limit and has a widget.
   *
   * @default - none
   */
  readonly capacityGauges?: readonly MonitoredCapacityGauge[];
  /**
   * What the alarms do when they fire.
   *
   * @default - the alarms only change state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

const period = Duration.minutes(5);

/** The alarm of each quota, its construct id (which docs/operators.md names a runbook after) and what it means. */
const capacityAlarms: Record<CapacityQuota, { id: string; title: (place: string) => string; description: (place: string) => string }> = {
  apiKeys: {
    id: 'ApiKeysNearQuota',
    title: (place) => `API keys in ${place}`,
    description: (place) =>
      `API keys in ${place} are at ${capacityAlarmPercent} % or more of the 10,000 per Region, a quota AWS does not raise; at 100 % creates answer 503 QUOTA_EXCEEDED.`,
  },
  appClients: {
    id: 'AppClientsNearQuota',
    title: (place) => `App clients in user pool ${place}`,
    description: (place) =>
      `App clients in user pool ${place} are at ${capacityAlarmPercent} % or more of the pool's quota; at 100 % creates answer 503 QUOTA_EXCEEDED. Raise the quota in Service Quotas.`,
  },
  usagePlansPerKey: {
    id: 'UsagePlansPerKeyNearQuota',
    title: (place) => `Usage plans per API key in ${place}`,
    description: (place) =>
      `An API key in ${place} was granted ${capacityAlarmPercent} % or more of the 10 usage plans one key may join; past 10, requests answer 422 TOO_MANY_USAGE_PLANS.`,
  },
  scopesPerClient: {
    id: 'ScopesPerClientNearQuota',
    title: (place) => `Scopes per app client in user pool ${place}`,
    description: (place) =>
      `An app client in user pool ${place} was granted ${capacityAlarmPercent} % or more of the 50 scopes one client may hold; past 50, requests answer 422 TOO_MANY_SCOPES.`,
  },
};

/** A construct id from a place; what a token stands for (the stack's account or Region, the pool's id) reads `Own`, whatever its number. */
const idOf = (place: string) => place.replace(/\$\{Token\[[^\]]*\]\}/g, 'Own').replace(/[^A-Za-z0-9]/g, '');

/**
 * Alarms on what needs a person (the API answering 5XX, a function failing or
 * throttled) and one dashboard with requests, latency and errors per route.
 */
export class WebhookMonitoring extends Construct {
  /** Every alarm, to wire more actions to. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  /** The webhook's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: WebhookMonitoringProps) {
    super(scope, id);
    const stage = props.api.deploymentStage;
    const detailed = props.detailedMetrics ?? true;

    this.alarm(
      'ApiServerErrors',
      stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM }),
      'The webhook API answered 5XX: the portal saw a failure.',
    );
    for (const route of props.routes) {
      const fn = route.function;
      this.alarm(
        `${route.name}Errors`,
        fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
        `${route.name} crashed or timed out (handled errors do not count).`,
      );
      this.alarm(
        `${route.name}Throttles`,
        fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
        `${route.name} was throttled by Lambda concurrency.`,
      );
    }
    const capacityGauges = props.capacityGauges ?? [];
    capacityGauges.forEach((gauge, index) => {
      if (capacityGauges.findIndex((other) => other.quota === gauge.quota && other.place === gauge.place) !== index) {
        throw new Error(`capacityGauges lists ${gauge.quota} in ${gauge.place} twice`);
      }
    });
    const capacityWidgets = capacityGauges.map((gauge) => this.capacity(gauge, props.metricsNamespace));
    if (props.alarmAction) for (const alarm of this.alarms) alarm.addAlarmAction(props.alarmAction);

    // Per-method metrics need the stage's detailed metrics; they carry these four dimensions.
    const perRoute = (metricName: string, statistic: string, route: MonitoredRoute) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiName: props.api.restApiName, Stage: stage.stageName, Method: route.method, Resource: route.path },
        statistic,
        period,
        label: route.name,
      });
    const byRoute = (metric: (route: MonitoredRoute) => cloudwatch.IMetric) => props.routes.map(metric);

    const requests = detailed
      ? byRoute((route) => perRoute('Count', cloudwatch.Stats.SUM, route))
      : byRoute((route) => route.function.metricInvocations({ period, label: route.name }));
    const latency = detailed
      ? byRoute((route) => perRoute('Latency', cloudwatch.Stats.p(99), route))
      : byRoute((route) => route.function.metricDuration({ period, statistic: cloudwatch.Stats.p(99), label: route.name }));
    const errors = detailed
      ? [
          ...byRoute((route) => perRoute('4XXError', cloudwatch.Stats.SUM, route).with({ label: `${route.name} 4XX` })),
          ...byRoute((route) => perRoute('5XXError', cloudwatch.Stats.SUM, route).with({ label: `${route.name} 5XX` })),
        ]
      : byRoute((route) => route.function.metricErrors({ period, label: route.name }));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Requests per route', left: requests, width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Latency per route (p99, ms)', left: latency, width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Errors per route', left: errors, width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Requests by route and outcome (webhook metrics)',
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{${[props.metricsNamespace, ...props.requestDimensions].join(',')}} MetricName="Requests"', 'Sum', ${period.toSeconds()})`,
                label: '',
                period,
              }),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'API totals',
            left: [
              stage.metricCount({ period, statistic: cloudwatch.Stats.SUM, label: 'requests' }),
              stage.metricClientError({ period, statistic: cloudwatch.Stats.SUM, label: '4XX' }),
              stage.metricServerError({ period, statistic: cloudwatch.Stats.SUM, label: '5XX' }),
            ],
            right: [stage.metricLatency({ period, statistic: cloudwatch.Stats.p(99), label: 'latency p99 (ms)' })],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Function duration (p99, ms)',
            left: byRoute((route) => route.function.metricDuration({ period, statistic: cloudwatch.Stats.p(99), label: route.name })),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Function errors and throttles',
            left: [
              ...byRoute((route) => route.function.metricErrors({ period, label: `${route.name} errors` })),
              ...byRoute((route) => route.function.metricThrottles({ period, label: `${route.name} throttles` })),
            ],
            width: 8,
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8 }),
        ],
        // Three gauges a row.
        ...Array.from({ length: Math.ceil(capacityWidgets.length / 3) }, (_, row) => capacityWidgets.slice(row * 3, row * 3 + 3)),
      ],
    });
  }

  /**
   * One gauge's alarm, at 80 % of its limit (the most used in 5 minutes, as a percentage of the
   * limit published with it), and its widget. The gauges are published when they change: a quiet
   * period has no data, and the alarm keeps its state through it rather than clearing while the
   * gauge is still as full.
   */
  private capacity(gauge: MonitoredCapacityGauge, namespace: string): cloudwatch.GraphWidget {
    if (!capacityQuotas.includes(gauge.quota)) throw new Error(`capacityGauges: unknown quota "${gauge.quota}" (${capacityQuotas.join(', ')})`);
    const { id, title, description } = capacityAlarms[gauge.quota];
    const metric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace,
        metricName,
        // Powertools adds `service` to every metric; the dimensions must match exactly.
        dimensionsMap: { service: serviceName, quota: gauge.quota, place: gauge.place },
        statistic: cloudwatch.Stats.MAXIMUM,
        period,
        label,
      });
    const used = metric(capacityMetricNames.used, 'in use');
    const limit = metric(capacityMetricNames.limit, 'quota');
    const percent = new cloudwatch.MathExpression({ expression: '100 * used / limit', usingMetrics: { used, limit }, period, label: '% of quota' });
    // One scope per place, holding each of its quotas' alarms.
    const scopeId = `Capacity${idOf(gauge.place)}`;
    const scope = (this.node.tryFindChild(scopeId) as Construct | undefined) ?? new Construct(this, scopeId);
    this.alarms.push(
      new cloudwatch.Alarm(scope, id, {
        metric: percent,
        alarmDescription: description(gauge.place),
        threshold: capacityAlarmPercent,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
    );
    return new cloudwatch.GraphWidget({
      title: title(gauge.place),
      left: [used, limit],
      leftYAxis: { min: 0 },
      right: [percent],
      rightYAxis: { min: 0, max: 100 },
      width: 8,
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string) {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        metric,
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic is not a failure: the portal calls rarely.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
