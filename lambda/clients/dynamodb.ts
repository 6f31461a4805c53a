import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from './retry-settings.ts';

export const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientSettings), {
  marshallOptions: { removeUndefinedValues: true },
});
