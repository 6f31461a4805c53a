import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createRegistryTable, localDynamoDbClient, startLocalDynamoDb } from '../../local/registry-table.ts';
import { CapacityGauges, type Gauge, gaugeKey } from '#provisioning/capacity';

/** Capacity gauges on in-memory DynamoDB (dynalite), in a registry table shaped as the stack deploys it. */
export const startGaugeDatabase = async () => {
  const database = await startLocalDynamoDb();
  const documents = DynamoDBDocumentClient.from(localDynamoDbClient(database.url));
  return {
    /** The client the gauges use, for tests that add middleware to it. */
    documents,
    /** Gauges on a fresh, empty table, and a way to read a gauge's item as stored. */
    newGauges: async () => {
      const tableName = `registry-${randomUUID()}`;
      await createRegistryTable(database.url, tableName);
      return {
        gauges: new CapacityGauges(documents, tableName),
        storedItem: async (gauge: Gauge) =>
          (await documents.send(new GetCommand({ TableName: tableName, Key: { appKey: gaugeKey(gauge) }, ConsistentRead: true }))).Item,
      };
    },
    close: async () => {
      documents.destroy();
      await database.close();
    },
  };
};

/** What a refused reserve was refused with, or `undefined` when it was not refused. */
export const refusal = async (reserve: Promise<unknown>) =>
  reserve.then(
    () => undefined,
    (error: unknown) => error,
  );
