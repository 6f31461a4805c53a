import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { credentialIdIndex } from '#provisioning/registry';

export interface LocalDynamoDb {
  url: string;
  close(): Promise<void>;
}

/** DynamoDB in memory (dynalite), for the registry table. */
export const startLocalDynamoDb = async (): Promise<LocalDynamoDb> => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

/** A client of the local DynamoDB, for creating its tables. */
export const localDynamoDbClient = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** CreateTable answers while the table is still CREATING (on AWS and in dynalite): wait until it is ACTIVE. */
export const untilActive = (client: DynamoDBClient, tableName: string) =>
  waitUntilTableExists({ client, minDelay: 1, maxWaitTime: 30 }, { TableName: tableName });

/** The registry table, shaped as the CDK stack deploys it. */
export const createRegistryTable = async (endpoint: string, tableName: string) => {
  const client = localDynamoDbClient(endpoint);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'appKey', AttributeType: 'S' },
        { AttributeName: 'credentialId', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'appKey', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        { IndexName: credentialIdIndex, KeySchema: [{ AttributeName: 'credentialId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
      ],
    }),
  );
  await untilActive(client, tableName);
  client.destroy();
};
