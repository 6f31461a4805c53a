import { BatchWriteItemCommand, DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createRegistryTable, startLocalDynamoDb } from '../../../local/registry-table.ts';
import { startDynamoDbStream } from '../../../local/stand-ins/dynamodb-stream.ts';

const dynamo = await startLocalDynamoDb();
await createRegistryTable(dynamo.url, 'streamed');
await createRegistryTable(dynamo.url, 'quiet');
const batches: DynamoDBRecord[][] = [];
let failNext: string | undefined;
const stream = await startDynamoDbStream({
  dynamoDbUrl: dynamo.url,
  tableNames: ['streamed'],
  retryDelayMs: 1,
  deliver: async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    batches.push(event.Records);
    const failing = event.Records.find((record) => record.dynamodb?.Keys?.appKey?.S === failNext);
    if (failing) {
      failNext = undefined;
      return { batchItemFailures: [{ itemIdentifier: failing.dynamodb?.SequenceNumber as string }] };
    }
    return { batchItemFailures: [] };
  },
});
const client = new DynamoDBClient({ endpoint: stream.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
afterAll(async () => {
  client.destroy();
  await stream.close();
  await dynamo.close();
});

const put = (appKey: string, state: string, table = 'streamed') =>
  client.send(new PutItemCommand({ TableName: table, Item: { appKey: { S: appKey }, state: { S: state } } }));

describe('the local DynamoDB stream stand-in', () => {
  it('delivers each change of a streamed table with its old and new image, as Lambda does, and nothing for a write that changes nothing', async () => {
    // Act
    await put('a', 'PENDING');
    await put('a', 'PENDING');
    await client.send(
      new UpdateItemCommand({
        TableName: 'streamed',
        Key: { appKey: { S: 'a' } },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':s': { S: 'ACTIVE' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: 'streamed', Key: { appKey: { S: 'a' } } }));
    await put('b', 'ACTIVE', 'quiet');
    await stream.drained();

    // Assess
    const records = stream.delivered();
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1]).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventSourceARN: expect.stringMatching(/^arn:aws:dynamodb:us-east-1:\d{12}:table\/streamed\/stream\//),
      dynamodb: {
        Keys: { appKey: { S: 'a' } },
        OldImage: { appKey: { S: 'a' }, state: { S: 'PENDING' } },
        NewImage: { appKey: { S: 'a' }, state: { S: 'ACTIVE' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    const sequences = records.map((record) => BigInt(record.dynamodb?.SequenceNumber as string));
    expect([...sequences].sort((x, y) => (x < y ? -1 : 1))).toEqual(sequences);
  });

  it('retries a batch from the record the consumer reports failed, not before it', async () => {
    // Prepare
    batches.length = 0;
    failNext = 'second';

    // Act
    await put('first', 'ACTIVE');
    await put('second', 'ACTIVE');
    await stream.drained();

    // Assess: "first" is delivered once; "second" again after its failure.
    const delivered = batches.flat().map((record) => record.dynamodb?.Keys?.appKey?.S);
    expect(delivered.filter((key) => key === 'first')).toHaveLength(1);
    expect(delivered.filter((key) => key === 'second')).toHaveLength(2);
  });

  it('refuses BatchWriteItem on a streamed table rather than miss its changes', async () => {
    await expect(
      client.send(new BatchWriteItemCommand({ RequestItems: { streamed: [{ PutRequest: { Item: { appKey: { S: 'c' } } } }] } })),
    ).rejects.toThrow(/does not capture BatchWriteItem/);
  });
});
