import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** An AWS service error as the SDK raises it (a 5xx is the server's fault, anything else the client's). */
export const awsError = (name: string, httpStatusCode = 400) =>
  Object.assign(new Error(`${name}: simulated for account 123456789012`), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });

/** DynamoDB refusing a conditional write, as the SDK raises it. */
export const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The control plane's answer once a Region holds its 10,000 API keys (as API Gateway refuses its resource quotas). */
export const regionFull = {
  kind: 'error',
  status: 429,
  errorType: 'LimitExceededException',
  message: 'Maximum number of API Keys for this account has been reached.',
} as const;
