import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { historyTableKeys } from '#history/history-store';

/**
 * The history of every change to a credential: one item per change, keyed by app and
 * time, deleted by DynamoDB's TTL once the retention ends. Retained with the stack, like the registry.
 */
export class ChangeHistory extends Construct {
  public readonly table: dynamodb.ITable;

  /** @param existing the history table a torn-down stack kept, to record into instead of a new one */
  constructor(scope: Construct, id: string, existing?: dynamodb.ITable) {
    super(scope, id);
    this.table =
      existing ??
      new dynamodb.Table(this, 'Table', {
        partitionKey: { name: historyTableKeys.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: historyTableKeys.sortKey, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: historyTableKeys.timeToLive,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
  }

  /** Lets a function add entries, and nothing else: the history is append-only for the webhook. */
  grantRecord(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'RecordHistory', actions: ['dynamodb:PutItem'], resources: [this.table.tableArn] }),
    );
  }
}
