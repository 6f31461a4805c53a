import { APIGatewayClient, GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
};

/** An AWS service error as the SDK raises it. */
export const awsError = (name: string, httpStatusCode = 400) =>
  Object.assign(new Error(`${name}: simulated for account 123456789012`), { name, $fault: 'client', $metadata: { httpStatusCode } });
