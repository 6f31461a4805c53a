import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { HISTORY_STREAM_RETRY_ATTEMPTS } from '../../../infra/history-stream.ts';
import { PortalCredentialsWebhook } from '../../../infra/portal-credentials-webhook.ts';
import { parseSettings } from '../../../infra/settings.ts';
import { buildStack, cdkJson, nagFindings, testEnv } from '../../helpers/webhook-stack.ts';

const { stack } = buildStack({ bundle: false, env: testEnv, change: (settings) => ({ ...settings, history: { retentionDays: 90 } }) });
const template = Template.fromStack(stack);
const consumer = stack.webhook.historyStream;
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: logicalId(construct) });

type Statement = { Action: string | string[]; Resource: unknown };
const statementsOf = (roleLogicalId: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);

describe("the history, made from the registry's stream", () => {
  it('streams every registry change with its old and new image', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'appKey', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('maps the stream to its consumer from the oldest record, reporting failed records, bisecting, retrying, then keeping them in a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: ref(consumer.function),
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.webhook.table as dynamodb.Table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: HISTORY_STREAM_RETRY_ATTEMPTS,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(consumer.deadLetterQueue), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(consumer.deadLetterQueue), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it("keeps entries as long as the stack's retention says, in the stack's history table", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: { HISTORY_TABLE_NAME: ref(stack.webhook.history.table as dynamodb.Table), HISTORY_RETENTION_DAYS: '90' } },
      Runtime: 'nodejs24.x',
      TracingConfig: { Mode: 'Active' },
    });
  });

  it("lets the consumer read the stream and add history entries, and nothing of the registry's items", () => {
    // Act
    const statements = statementsOf(logicalId(consumer.function.role as never));
    const actions = statements.flatMap((statement) => [statement.Action].flat());

    // Assess
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream', 'dynamodb:PutItem']),
    );
    expect(actions.filter((action) => action.startsWith('dynamodb:') && /Item|Query|Scan/.test(action))).toEqual(['dynamodb:PutItem']);
    const putItem = statements.find((statement) => [statement.Action].flat().includes('dynamodb:PutItem'));
    expect(putItem?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack.webhook.history.table as dynamodb.Table), 'Arn'] });
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage']));
  });

  it('reports no cdk-nag finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it("refuses a registry imported without its stream, and a kept table's settings without the stream's ARN", () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const bare = new Stack(app, 'Bare', { env: testEnv });

    // Act + Assess
    expect(
      () => new PortalCredentialsWebhook(bare, 'Webhook', { registryTable: dynamodb.Table.fromTableName(bare, 'Kept', 'kept-registry') }),
    ).toThrow(/registryTable must come with its stream/);
    expect(() => parseSettings({ ...(cdkJson.context.portalCredentialsWebhook as object), registry: { tableName: 'kept-registry' } })).toThrow(
      /tableName and streamArn go together/,
    );
  });

  it('takes the retention from the construct prop when no settings file is involved', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const own = new Stack(app, 'Own', { env: testEnv });

    // Act
    new PortalCredentialsWebhook(own, 'Webhook', { historyRetention: Duration.days(30) });

    // Assess
    Template.fromStack(own).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HISTORY_RETENTION_DAYS: '30', HISTORY_TABLE_NAME: Match.anyValue() }) },
      Description: Match.stringLikeRegexp('records each registry change'),
    });
  });
});
