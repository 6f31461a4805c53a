/**
 * DynamoDB Streams for dynalite, which has none: a proxy in front of it (awsJson1_0: `POST /` with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`) through which every client reaches DynamoDB. For
 * each PutItem, UpdateItem or DeleteItem on a streamed table it reads the item before and after
 * the write (consistently, with the table's writes through it taken one at a time), and when the
 * item changed it queues a stream record shaped as Lambda delivers them (`DynamoDBStreamEvent`,
 * NEW_AND_OLD_IMAGES). A write that changes nothing makes no record, as in DynamoDB Streams.
 *
 * The queue is delivered in order, in batches, to the consumer, as an event source mapping with
 * ReportBatchItemFailures does: a batch answered with failures is retried from the lowest failed
 * sequence number, up to `maxRetries` times, after which the failing record goes to `onDiscarded`
 * (the stack's on-failure destination). BatchWriteItem and TransactWriteItems on a streamed table
 * are refused: nothing in this project sends them, and a record of theirs would be silently missed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { type AttributeValue, DescribeTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export interface DynamoDbStreamOptions {
  /** The DynamoDB (dynalite) the proxy stands in front of. */
  dynamoDbUrl: string;
  /** Tables whose changes are streamed; others pass through untouched. */
  tableNames: readonly string[];
  /** The consumer, as Lambda invokes it with the event source mapping's batches. */
  deliver: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;
  /** Records per batch (default 100, the mapping's default for DynamoDB Streams). */
  batchSize?: number;
  /** Deliveries of a failing record before it is discarded (default 3). */
  maxRetries?: number;
  /** Pause before a retry (default 50 ms). */
  retryDelayMs?: number;
  /** Told of each record given up after its retries: the on-failure destination. */
  onDiscarded?: (record: DynamoDBRecord, error?: unknown) => void;
}

export interface DynamoDbStream {
  /** Endpoint for the SDK, in place of dynalite's. */
  url: string;
  /** Settles once every record queued so far has been delivered (or discarded). */
  drained(): Promise<void>;
  /** Records delivered so far, in order, as the consumer first received them (tests replay them). */
  delivered(): DynamoDBRecord[];
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const JSON_1_0 = 'application/x-amz-json-1.0';
const streamedWrites = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const refusedWrites = new Set(['BatchWriteItem', 'TransactWriteItems']);
const region = 'us-east-1';

type Item = Record<string, AttributeValue>;

export const startDynamoDbStream = async (options: DynamoDbStreamOptions): Promise<DynamoDbStream> => {
  const { dynamoDbUrl, deliver } = options;
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maxRetries ?? 3;
  const streamed = new Set(options.tableNames);
  const reader = new DynamoDBClient({ endpoint: dynamoDbUrl, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const keyNames = new Map<string, Promise<string[]>>();
  const writesInTurn = new Map<string, Promise<unknown>>();
  const startedAt = new Date().toISOString();
  const queue: DynamoDBRecord[] = [];
  const history: DynamoDBRecord[] = [];
  let sequence = 0n;
  let pumping: Promise<void> | undefined;
  let closed = false;

  const keysOf = (tableName: string) => {
    let names = keyNames.get(tableName);
    if (!names) {
      names = reader
        .send(new DescribeTableCommand({ TableName: tableName }))
        .then(({ Table }) => (Table?.KeySchema ?? []).map((key) => key.AttributeName as string));
      keyNames.set(tableName, names);
    }
    return names;
  };

  const read = async (tableName: string, key: Item) =>
    (await reader.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

  /** One write at a time per streamed table, so that each record's images are that write's own. */
  const inTurn = <T>(tableName: string, work: () => Promise<T>): Promise<T> => {
    const previous = writesInTurn.get(tableName) ?? Promise.resolve();
    const next = previous.then(work, work);
    writesInTurn.set(
      tableName,
      next.catch(() => undefined),
    );
    return next;
  };

  const recordOf = (tableName: string, keys: Item, before: Item | undefined, after: Item | undefined): DynamoDBRecord => {
    sequence += 1n;
    const images = { Keys: keys, ...(after ? { NewImage: after } : {}), ...(before ? { OldImage: before } : {}) };
    return {
      eventID: randomUUID().replaceAll('-', ''),
      eventName: !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: region,
      eventSourceARN: `arn:aws:dynamodb:${region}:000000000000:table/${tableName}/stream/${startedAt}`,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        // Numeric strings that grow with each record, as DynamoDB's do.
        SequenceNumber: (100_000_000_000_000_000_000n + sequence).toString(),
        SizeBytes: Buffer.byteLength(JSON.stringify(images)),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ...(images as NonNullable<DynamoDBRecord['dynamodb']>),
      },
    };
  };

  const pump = async () => {
    let attempts = 0;
    while (queue.length > 0 && !closed) {
      const batch = queue.slice(0, batchSize);
      let failedAt = -1;
      let failure: unknown;
      try {
        const answer = await deliver({ Records: batch });
        const failed = new Set((answer?.batchItemFailures ?? []).map((item) => item.itemIdentifier));
        failedAt = batch.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber as string));
        // An identifier that names no record of the batch fails it whole, as Lambda does.
        if (failed.size > 0 && failedAt < 0) failedAt = 0;
      } catch (error) {
        failedAt = 0;
        failure = error;
      }
      if (failedAt < 0) {
        queue.splice(0, batch.length);
        attempts = 0;
        continue;
      }
      queue.splice(0, failedAt);
      if (failedAt > 0) attempts = 0;
      attempts += 1;
      if (attempts > maxRetries) {
        const [discarded] = queue.splice(0, 1);
        if (discarded) options.onDiscarded?.(discarded, failure);
        attempts = 0;
        continue;
      }
      await sleep(options.retryDelayMs ?? 50);
    }
  };

  /** Delivers after the write's answer, as the stream does: the writer never waits for its consumer. */
  const schedule = () => {
    pumping ??= new Promise<void>((resolve) => setImmediate(resolve)).then(pump).finally(() => {
      pumping = undefined;
      if (queue.length > 0 && !closed) schedule();
    });
  };

  const enqueue = (record: DynamoDBRecord) => {
    queue.push(record);
    history.push(record);
    schedule();
  };

  const forward = async (req: IncomingMessage, body: string) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !['host', 'connection', 'content-length'].includes(name)) headers[name] = String(value);
    }
    return fetch(`${dynamoDbUrl}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body });
  };

  const answer = async (res: ServerResponse, answered: Response) => {
    const text = await answered.text();
    const headers: Record<string, string> = {
      'content-type': answered.headers.get('content-type') ?? JSON_1_0,
      'content-length': String(Buffer.byteLength(text)),
    };
    for (const name of ['x-amzn-requestid', 'x-amz-crc32']) {
      const value = answered.headers.get(name);
      if (value) headers[name] = value;
    }
    res.writeHead(answered.status, headers);
    res.end(text);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const input = operation && (streamedWrites.has(operation) || refusedWrites.has(operation)) ? safeJson(body) : undefined;
    if (refusedWrites.has(operation) && touchesStreamedTable(input, streamed)) {
      const payload = JSON.stringify({
        __type: 'com.amazon.coral.validate#ValidationException',
        message: `The local stream stand-in does not capture ${operation} on a streamed table`,
      });
      res.writeHead(400, { 'content-type': JSON_1_0, 'content-length': Buffer.byteLength(payload) });
      return void res.end(payload);
    }
    const tableName = typeof input?.TableName === 'string' ? input.TableName : undefined;
    if (!streamedWrites.has(operation) || !tableName || !streamed.has(tableName)) return answer(res, await forward(req, body));

    const written = (operation === 'PutItem' ? input?.Item : input?.Key) as Item | undefined;
    const names = await keysOf(tableName);
    const keys = Object.fromEntries(names.filter((name) => written?.[name] !== undefined).map((name) => [name, written?.[name] as AttributeValue]));
    // A request without its key is refused by DynamoDB itself: nothing to capture.
    if (Object.keys(keys).length !== names.length) return answer(res, await forward(req, body));
    const answered = await inTurn(tableName, async () => {
      const before = await read(tableName, keys);
      const result = await forward(req, body);
      if (result.ok) {
        const after = await read(tableName, keys);
        if (!isDeepStrictEqual(before, after)) enqueue(recordOf(tableName, keys, before, after));
      }
      return result;
    });
    return answer(res, answered);
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      console.error('dynamodb-stream: unexpected failure', error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    drained: async () => {
      // Writes still in their turn may yet queue a record; the pump then runs until the queue is empty.
      for (;;) {
        await Promise.all(writesInTurn.values());
        if (!pumping) return;
        await pumping;
      }
    },
    delivered: () => [...history],
    close: async () => {
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      await pumping;
      reader.destroy();
    },
  };
};

const safeJson = (text: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

const touchesStreamedTable = (input: Record<string, unknown> | undefined, streamed: ReadonlySet<string>) => {
  const requestItems = Object.keys((input?.RequestItems as object | undefined) ?? {});
  const transactTables = ((input?.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? []).flatMap((item) =>
    Object.values(item).map((action) => action.TableName),
  );
  return [...requestItems, ...transactTables].some((table) => table !== undefined && streamed.has(table));
};
