import type { FarSampleApi } from './far-sample-api.ts';
import type { LocalWebhook } from './local-webhook.ts';

/**
 * The operator commands as `npm start` prints them: one line each, runnable as they are from
 * this checkout in another shell. The SDK's standard endpoint variables point them at the local
 * stand-ins (CloudFormation, STS, API Gateway and Secrets Manager share one), and `--stack` finds
 * everything else from the local stack's outputs, as on AWS. With `far`, the sample API of another
 * Region, `verify` proves one key value there too.
 */
export const operatorCommandLines = (webhook: LocalWebhook, exampleAppKey: string, far?: FarSampleApi) => {
  const environment = [
    'AWS_REGION=us-east-1',
    'AWS_ACCESS_KEY_ID=local',
    'AWS_SECRET_ACCESS_KEY=local',
    `AWS_ENDPOINT_URL=${webhook.controlPlane.url}`,
    `AWS_ENDPOINT_URL_DYNAMODB=${webhook.dynamoDbUrl}`,
    `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=${webhook.cognitoProxy.url}`,
  ].join(' ');
  const command = (args: string) => `${environment} npx portal-credentials ${args} --stack ${webhook.stackName}`;
  const { sampleApi } = webhook;
  const farFlags = far ? ` --far-api-id ${far.apiId} --far-plan-id ${far.usagePlanId} --far-sample-url ${far.url}` : '';
  return {
    audit: command('audit'),
    history: command(`history ${exampleAppKey}`),
    verify: command(
      `verify --other-plan-id ${sampleApi.otherPlanId} --payments-api-id ${sampleApi.paymentsApiId} --scope ${sampleApi.paymentsScope} --narrow-api-id ${sampleApi.narrowApiId}${farFlags}`,
    ),
  };
};
