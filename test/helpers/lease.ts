import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodb } from '#clients/dynamodb';

/**
 * Makes the lease on an app's record run out now, as if its holder had been gone for that long:
 * what a test of recovery after a failed call needs, without waiting out the functions' lease.
 */
export const leaseRunsOut = async (appKey: string, tableName = process.env.REGISTRY_TABLE_NAME as string) => {
  await dynamodb
    .send(
      new UpdateCommand({
        TableName: tableName,
        Key: { appKey },
        UpdateExpression: 'SET leaseExpiresAt = :past',
        ConditionExpression: 'attribute_exists(leaseExpiresAt)',
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    )
    .catch((error: Error) => {
      if (error.name !== 'ConditionalCheckFailedException') throw error;
    });
};
