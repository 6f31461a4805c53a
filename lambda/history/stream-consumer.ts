import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { HistoryEntry } from './history-entry.ts';
import { streamedEntry } from './stream-entries.ts';

/** Where entries go: a write that throws when it fails (the batch then reports the record). */
export interface HistoryWriter {
  put(entry: HistoryEntry, discriminator: string): Promise<void>;
}

/**
 * Records the history entry of each registry change in a stream batch, in the stream's order.
 * At the first record that fails, it stops and reports that record (ReportBatchItemFailures):
 * Lambda retries from it, so records before it are not written again, and those after it wait
 * their turn. A redelivered record rewrites its entry under the same key: never a duplicate.
 */
export const recordStreamBatch = async (
  event: DynamoDBStreamEvent,
  history: HistoryWriter,
  onFailure: (sequenceNumber: string | undefined, error: unknown) => void = () => {},
): Promise<DynamoDBBatchResponse> => {
  for (const record of event.Records) {
    try {
      const streamed = streamedEntry(record);
      if (streamed) await history.put(streamed.entry, streamed.discriminator);
    } catch (error) {
      onFailure(record.dynamodb?.SequenceNumber, error);
      // An identifier Lambda cannot match fails the whole batch: the safe side when the record has none.
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
};
