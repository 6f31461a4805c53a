import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

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
   * What the alarms do when they fire.
   *
   * @default - the alarms only change state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

const period = Duration.minutes(5);

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
      ],
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
