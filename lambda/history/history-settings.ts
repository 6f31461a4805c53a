import { functionDefaults } from '#commons/defaults';

/** The history table and its retention (the stack's setting), as the stream consumer reads them at cold start. */
export const historySettings = (env: Record<string, string | undefined> = process.env) => {
  const tableName = env.HISTORY_TABLE_NAME;
  if (!tableName) throw new Error('Invalid history configuration: HISTORY_TABLE_NAME is required');
  const retentionDays = Number(env.HISTORY_RETENTION_DAYS ?? functionDefaults.historyRetentionDays);
  if (!Number.isInteger(retentionDays) || retentionDays <= 0) {
    throw new Error('Invalid history configuration: HISTORY_RETENTION_DAYS must be a positive whole number');
  }
  return { tableName, retentionDays };
};
