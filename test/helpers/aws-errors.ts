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
