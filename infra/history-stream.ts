import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ChangeHistory } from './change-history.ts';
import { FUNCTION_HANDLER } from './function-code.ts';

export interface HistoryStreamProps {
  /** The consumer's code: its prebuilt bundle (`functionCode(scope, 'record-history', …)`). */
  readonly code: lambda.Code;
  /** The registry, with its stream (NEW_AND_OLD_IMAGES): every change to it becomes a history entry. */
  readonly registry: dynamodb.ITable;
  readonly history: ChangeHistory;
  /** How long entries are kept: the stack's setting (HISTORY_RETENTION_DAYS). */
  readonly retentionDays: number;
  readonly logRetention: logs.RetentionDays;
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** Deliveries of a failing batch before its records go to the dead-letter queue; bisection narrows it to the record first. */
export const HISTORY_STREAM_RETRY_ATTEMPTS = 10;

/**
 * The history, made from the registry's own stream: a function reads each change (old and new
 * image, with the writer's `lastChange`) and records its entry (lambda/handlers/record-history.ts).
 * No writer can change a record and skip its entry, and no route waits for the history write.
 * A record that cannot be recorded after its retries is kept in a dead-letter queue (its stream
 * position and keys, for 14 days), and an alarm says so.
 */
export class HistoryStream extends Construct {
  public readonly function: lambda.Function;
  /** Where the stream positions of changes that could not be recorded go. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Fires when a change could not be recorded (a message in the dead-letter queue). */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: HistoryStreamProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "Portal credentials webhook, history: reads the registry's stream, adds history entries",
    });
    // The event source mapping grants the stream's reads to this role; the history only its PutItem.
    props.history.grantRecord(role);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    logGroup.grantWrite(role);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.function = new lambda.Function(this, 'Function', {
      description: "Portal credentials webhook: records each registry change in the history, from the registry's stream",
      code: props.code,
      handler: FUNCTION_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      environment: { HISTORY_TABLE_NAME: props.history.table.tableName, HISTORY_RETENTION_DAYS: String(props.retentionDays) },
    });
    this.function.addEventSource(
      new DynamoEventSource(props.registry, {
        // From the oldest record kept: changes made before the mapping existed are recorded too (idempotently).
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: HISTORY_STREAM_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );

    this.alarm = new cloudwatch.Alarm(this, 'NotRecordedAlarm', {
      alarmDescription:
        'A registry change could not be recorded in the history after its retries: its stream position is in the dead-letter queue; see the history function log',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) this.alarm.addAlarmAction(props.alarmAction);
  }
}
