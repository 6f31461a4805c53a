import { CreateTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { historyTableKeys } from '#history/history-store';
import { localDynamoDbClient, untilActive } from './registry-table.ts';

/** The history table, shaped as the CDK stack deploys it. */
export const createHistoryTable = async (endpoint: string, tableName: string) => {
  const client = localDynamoDbClient(endpoint);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: historyTableKeys.partitionKey, AttributeType: 'S' },
        { AttributeName: historyTableKeys.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: historyTableKeys.partitionKey, KeyType: 'HASH' },
        { AttributeName: historyTableKeys.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  await untilActive(client, tableName);
  // dynalite accepts the setting without expiring anything; the store hides expired entries itself.
  await client
    .send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: historyTableKeys.timeToLive, Enabled: true } }),
    )
    .catch(() => undefined);
  client.destroy();
};
