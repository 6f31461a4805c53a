import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createRegistryTable, type LocalDynamoDb, startLocalDynamoDb } from '../../local/registry-table.ts';
import { fencedByTurns } from '#clients/turns';
import { Registry } from '#provisioning/registry';

/** A real registry on in-memory DynamoDB (dynalite): conditional writes behave as in AWS. */
export const startRegistryDatabase = async () => {
  const database: LocalDynamoDb = await startLocalDynamoDb();
  const client = new DynamoDBClient({ endpoint: database.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // As in production: a holder whose turn is over writes nothing.
  client.middlewareStack.use(fencedByTurns);
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    /** The client every registry made here uses, for tests that add middleware to it. */
    documents,
    /** A fresh, empty table for one test. */
    newRegistry: async () => {
      const tableName = `registry-${randomUUID()}`;
      await createRegistryTable(database.url, tableName);
      return new Registry(documents, tableName);
    },
    close: async () => {
      documents.destroy();
      await database.close();
    },
  };
};
