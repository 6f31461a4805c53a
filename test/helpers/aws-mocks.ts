import { APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { mockClient } from 'aws-sdk-client-mock';
import { portalUser, rotatedUser } from './portal.ts';
import { usagePlanFromSeed } from './usage-plans.ts';

/**
 * Every AWS client the handlers use, mocked; reset before each test with the Basic secret
 * holding two pairs and the usage plans of `local/seed.json`.
 */
export const aws = {
  apiGateway: mockClient(APIGatewayClient),
  dynamodb: mockClient(DynamoDBDocumentClient),
  secrets: mockClient(SecretsManagerClient),
};

export const resetAwsMocks = () => {
  for (const mock of Object.values(aws)) mock.reset();
  clearCaches();
  aws.secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify([portalUser, rotatedUser]) });
  aws.apiGateway.on(GetUsagePlanCommand).callsFake(usagePlanFromSeed);
  // An empty registry, as DynamoDB answers a read of a key it does not hold, until a test says otherwise.
  aws.dynamodb.on(GetCommand).resolves({});
};

export { awsError, conditionFailed } from './aws-errors.ts';

/**
 * The registry answers as DynamoDB would holding these records: a read by app key finds
 * only that app's, a query by credential id only that credential's, so a wrong key
 * condition in the code finds nothing and a test sees it.
 */
export const registryHolds = (...records: ({ appKey: string; credentialId?: string } & Record<string, unknown>)[]) => {
  aws.dynamodb.on(GetCommand).callsFake(({ Key }) => ({ Item: records.find((record) => record.appKey === Key?.appKey) }));
  aws.dynamodb.on(QueryCommand).callsFake(({ KeyConditionExpression, ExpressionAttributeValues = {} }) => ({
    Items: records.filter(
      (record) => /^credentialId = /.test(KeyConditionExpression ?? '') && Object.values(ExpressionAttributeValues).includes(record.credentialId),
    ),
  }));
};
