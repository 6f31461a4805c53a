import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { driftKinds } from '#audit/drift';
import { metricsNamespace, serviceName } from '#commons/service';
import { FUNCTION_HANDLER } from './function-code.ts';
import { usagePlanArns } from './route-permissions.ts';

export interface DriftAuditProps {
  /** The functions' environment: the audit reads the same settings. */
  readonly environment: Record<string, string>;
  /** The audit's bundle with the route functions' credential policy beside it: the audit checks what that policy issues. */
  readonly code: lambda.Code;
  readonly registry: dynamodb.ITable;
  /** Set when the deployment issues API keys: the plans whose links are read. */
  readonly usagePlanIds?: readonly string[];
  /** Set when the deployment issues client credentials. */
  readonly userPoolArn?: string;
  /** When the audit runs. */
  readonly schedule: events.Schedule;
  readonly logRetention: logs.RetentionDays;
  /** Where the drift graph goes. */
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** The registry keys of the capacity gauges (`gaugeKey` in lambda/provisioning/capacity.ts; a test keeps the two in step). */
export const gaugeKeyPattern = '#gauge#*';

const allow = (sid: string, actions: string[], resources: string[]) => new iam.PolicyStatement({ sid, actions, resources });

/**
 * The daily drift audit: a function that reads the registry and AWS (never changes them),
 * publishes the drift found as metrics, alarms when any is found or when no audit completed,
 * and graphs it.
 */
export class DriftAudit extends Construct {
  public readonly function: lambda.Function;
  public readonly alarm: cloudwatch.Alarm;
  /** Fires when no audit completed for two days: rule disabled, function failing or incomplete, no data. */
  public readonly notRunAlarm: cloudwatch.Alarm;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DriftAuditProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Portal credentials webhook, drift audit: reads the registry and the credentials, changes nothing',
    });
    // A consistent Scan of the registry, and one GetItem whose answer sets the registry's clock (and reads the gauges).
    role.addToPolicy(allow('ReadRegistry', ['dynamodb:GetItem', 'dynamodb:Scan'], [props.registry.tableArn]));
    // The one write: the capacity gauges corrected to the registry. Their items alone (reserved keys `#gauge#…`), never an app's record.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReconcileCapacityGauges',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.registry.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [gaugeKeyPattern] } },
      }),
    );
    if (props.usagePlanIds) {
      const apigateway = (path: string) => `arn:${stack.partition}:apigateway:${stack.region}::${path}`;
      role.addToPolicy(allow('ReadApiKeys', ['apigateway:GET'], [apigateway('/apikeys')]));
      role.addToPolicy(allow('ReadUsagePlanLinks', ['apigateway:GET'], usagePlanArns(apigateway, props.usagePlanIds, '/keys')));
    }
    if (props.userPoolArn) {
      role.addToPolicy(allow('ReadAppClients', ['cognito-idp:ListUserPoolClients', 'cognito-idp:DescribeUserPoolClient'], [props.userPoolArn]));
      // The pool's quota of app clients in force, compared with the configured limit. Service Quotas' List actions
      // name no resource type and no condition key (Service Authorization Reference, Service Quotas): all resources.
      role.addToPolicy(allow('ReadAppClientsQuota', ['servicequotas:ListServiceQuotas', 'servicequotas:ListAWSDefaultServiceQuotas'], ['*']));
    }
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    logGroup.grantWrite(role);

    this.function = new lambda.Function(this, 'Function', {
      description: 'Portal credentials webhook: daily drift audit (report only)',
      code: props.code,
      handler: FUNCTION_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // Paced under AWS's rate limits: 10,000 keys and 1,000 app clients take a few minutes.
      timeout: Duration.minutes(15),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: props.environment,
    });

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the credentials webhook drift audit',
      schedule: props.schedule,
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    const period = Duration.days(1);
    const drift = Object.fromEntries(
      driftKinds.map((kind) => [
        kind.toLowerCase(),
        new cloudwatch.Metric({
          namespace: metricsNamespace,
          metricName: 'Drift',
          dimensionsMap: { service: serviceName, kind },
          statistic: 'Maximum',
          period,
          label: kind,
        }),
      ]),
    );
    const total = new cloudwatch.MathExpression({ expression: Object.keys(drift).join(' + '), usingMetrics: drift, period, label: 'all drift' });
    this.alarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmDescription: 'The drift audit found credentials that differ between the registry and AWS: run npm run audit to see them',
      metric: total,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No datapoint means the audit did not run; its function's errors say why.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const failed = new cloudwatch.Alarm(this, 'AuditErrorsAlarm', {
      alarmDescription: 'The drift audit failed (or could not see every kind of credential the registry holds): see its log',
      metric: this.function.metricErrors({ period }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const counted = (metricName: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: serviceName },
        statistic: 'Sum',
        period,
        ...(label ? { label } : {}),
      });
    // No datapoint is no audit: a disabled rule, a failing or incomplete run, a deleted function all read as breaching.
    // Two daily periods, both missing: today's may simply not have run yet.
    this.notRunAlarm = new cloudwatch.Alarm(this, 'AuditNotRunAlarm', {
      alarmDescription:
        'No drift audit completed for two days: check its schedule rule, its function errors and its log; until it runs again, no drift is known',
      // Unlabelled: the alarm reads the metric itself, not a math expression.
      metric: counted('AuditCompleted'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const alarms = [this.alarm, failed, this.notRunAlarm];
    if (props.alarmAction) for (const alarm of alarms) alarm.addAlarmAction(props.alarmAction);

    props.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Drift found by the daily audit',
        left: Object.values(drift),
        width: 16,
        view: cloudwatch.GraphWidgetView.BAR,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Drift audit', alarms, width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Not counted as drift: changes in progress, acknowledged findings; audits completed',
        left: [counted('ChangesInProgress', 'IN_PROGRESS'), counted('AcknowledgedDrift', 'acknowledged')],
        right: [counted('AuditCompleted', 'audits completed')],
        width: 24,
        view: cloudwatch.GraphWidgetView.BAR,
      }),
    );
  }
}
