import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { HistoryEntry, HistoryRecorder } from './history-entry.ts';

/**
 * The history of every change, in its own DynamoDB table: keyed by app, sorted by time,
 * each item expiring after the retention (DynamoDB's TTL deletes it). A table of its own
 * because the registry holds one item per app, and the history many.
 */
export class HistoryStore implements HistoryRecorder {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
    /** Told of a write that failed (the functions log it); the entry holds no secret. */
    private readonly onFailure: (entry: HistoryEntry, error: unknown) => void = () => {},
  ) {}

  /** Records the entry; a failure is reported to `onFailure`, never thrown: the change already happened. */
  async record(entry: HistoryEntry): Promise<void> {
    try {
      // Unique even for two changes of one app in the same millisecond.
      await this.put(entry, randomBytes(4).toString('hex'));
    } catch (error) {
      this.onFailure(entry, error);
    }
  }

  /**
   * Writes the entry under `${entry.at}#${discriminator}`, and throws when that fails. Writing the
   * same entry with the same discriminator again overwrites it: a change delivered twice is one entry.
   */
  async put(entry: HistoryEntry, discriminator: string): Promise<void> {
    const sortKey = `${entry.at}#${discriminator}`;
    const expiresAt = Math.floor(Date.parse(entry.at) / 1000) + this.retentionDays * 86_400;
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...entry, sortKey, expiresAt } }));
  }

  /** An app's entries, newest first. */
  async forApp(appKey: string, limit = 100): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'appKey = :app',
          ExpressionAttributeValues: { ':app': appKey },
          ScanIndexForward: false,
          Limit: Math.min(limit - entries.length, 1000),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const { sortKey: _sortKey, expiresAt, ...entry } of (page.Items ?? []) as (HistoryEntry & { sortKey: string; expiresAt: number })[]) {
        // DynamoDB deletes expired items within a few days, not at once: hide them meanwhile.
        if (expiresAt * 1000 > Date.now()) entries.push(entry);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && entries.length < limit);
    return entries;
  }
}

/** The table's key schema, shared by the stack and the local table. */
export const historyTableKeys = { partitionKey: 'appKey', sortKey: 'sortKey', timeToLive: 'expiresAt' } as const;
