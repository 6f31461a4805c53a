import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from './retry-settings.ts';
import { fencedByTurns } from './turns.ts';

const client = new DynamoDBClient(awsClientSettings);
// Registry writes are fenced like AWS changes: a holder whose turn is over writes nothing.
client.middlewareStack.use(fencedByTurns);

export const dynamodb = DynamoDBDocumentClient.from(client, {
  marshallOptions: { removeUndefinedValues: true },
});
