import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { dynamodb } from '#clients/dynamodb';
import { logger } from '#commons/powertools';
import { HistoryStore } from '#history/history-store';
import { historySettings } from '#history/history-settings';
import { recordStreamBatch } from '#history/stream-consumer';

const { tableName, retentionDays } = historySettings();
const history = new HistoryStore(dynamodb, tableName, retentionDays);

/**
 * The registry table's stream consumer: every change to a record becomes its history entry, whoever
 * made it. A record that cannot be written is reported for Lambda to retry from (then the on-failure
 * destination keeps it); the entries hold no secret, and neither does the log line.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  recordStreamBatch(event, history, (sequenceNumber, error) =>
    logger.error('Could not record a registry change in the history; the stream retries it', {
      sequenceNumber,
      errorName: (error as Error)?.name,
      errorMessage: (error as Error)?.message,
    }),
  );
