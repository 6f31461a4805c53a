/**
 * Prints the history of one app's credential: every change the webhook or a repair made.
 *
 *   portal-credentials history <app key> --stack NAME [--limit N] [--json]
 *   portal-credentials history --app-name NAME --developer EMAIL --stack NAME   (apps the portal sent without a slug)
 *
 * Exit codes: 0 printed (also when the app has no history), 1 AWS failed, 2 wrong usage.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#clients/retry-settings';
import type { HistoryEntry } from '#history/history-entry';
import { HistoryStore } from '#history/history-store';
import { appKeyOf } from '#provisioning/app-identity';
import type { Grant } from '#provisioning/provisioner';
import { type CliOutput, EXIT_FAILED, EXIT_OK, isEntryPoint, parseOrExit, processOutput } from './cli.ts';
import { outputsOfStackFlag, type StackOutputs, stackOption } from './stack-outputs.ts';

export const USAGE = `Usage: portal-credentials history <app key> --stack <stack> [options]
       portal-credentials history <app key> --history-table <history table> [options]

Prints every change made to an app's credential, newest first: when, which route or repair,
who asked (the portal's Basic username, or the operator), the credential, its grant before
and after, the outcome and the request id. Never a secret.

The app key is the portal's appSlug; for apps sent without one, give --app-name and --developer.

Options:
  --stack <name>            The deployment's CloudFormation stack: its output HistoryTableName names the table
  --history-table <name>    The history table (alias --table; overrides the stack's; default: HISTORY_TABLE_NAME)
  --app-name <name>         With --developer: the app, for portals that send no appSlug
  --developer <email>
  --limit <n>               At most this many entries (default 100)
  --region <region>         AWS Region (default: AWS_REGION or your profile's)
  --json                    Print the entries as one JSON document (an array, newest first) on stdout
  -h, --help                Show this help

Exit codes: 0 printed (also when the app has no history), 1 AWS failed, 2 wrong usage.
`;

interface HistoryCommand {
  appKey: string;
  table: string;
  limit: number;
  json: boolean;
  region?: string;
}

const parseCommandLine = (args: readonly string[], env: NodeJS.ProcessEnv, outputs: StackOutputs): HistoryCommand | 'help' => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...stackOption,
      table: { type: 'string' },
      'history-table': { type: 'string' },
      'app-name': { type: 'string' },
      developer: { type: 'string' },
      limit: { type: 'string', default: '100' },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  const byName = values['app-name'] !== undefined || values.developer !== undefined;
  if (positionals.length > 1) throw new Error('give one app key');
  if (byName && positionals.length === 1) throw new Error('give either an app key or --app-name with --developer, not both');
  if (byName && (!values['app-name'] || !values.developer)) throw new Error('--app-name and --developer go together');
  const appKey = byName ? appKeyOf({ appName: values['app-name'], developer: values.developer }) : positionals[0];
  if (!appKey) throw new Error('give the app key (the portal’s appSlug)');
  const table = values['history-table'] ?? values.table ?? outputs.HistoryTableName ?? env.HISTORY_TABLE_NAME;
  if (!table) throw new Error('--stack or --history-table is required (or set HISTORY_TABLE_NAME)');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('--limit must be a whole number from 1 to 10000');
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return { appKey, table, limit, json: values.json, ...(region ? { region } : {}) };
};

const grantText = (entry: HistoryEntry, grant: Grant | undefined) => {
  if (!grant) return '-';
  return entry.credentialType === 'CLIENT_CREDENTIALS'
    ? `scopes ${grant.scopes.join(' ') || '(none)'}`
    : `plans ${grant.usagePlanIds.join(' ') || '(none)'}`;
};

export const formatHistory = (appKey: string, entries: HistoryEntry[]): string => {
  if (entries.length === 0) return `No history for app ${appKey}.\n`;
  const rows = [
    ['AT', 'ACTION', 'SOURCE', 'PRINCIPAL', 'CREDENTIAL', 'BEFORE', 'AFTER', 'OUTCOME', 'REQUEST'],
    ...entries.map((entry) => [
      entry.at,
      entry.action,
      entry.source,
      entry.principal,
      entry.credentialId ?? '-',
      grantText(entry, entry.before),
      grantText(entry, entry.after),
      entry.outcome,
      entry.requestId,
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const table = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `History of app ${appKey}, newest first:\n\n${table.join('\n')}\n`;
};

/** Runs the command and returns its exit code; never throws. */
export const main = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env, output: CliOutput = processOutput): Promise<number> => {
  const stack = await outputsOfStackFlag(args, env, output);
  if ('exitCode' in stack) return stack.exitCode;
  const parsed = parseOrExit(() => parseCommandLine(args, env, stack.outputs), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...awsClientSettings, ...(request.region ? { region: request.region } : {}) }));
  try {
    // Retention only matters when writing; reading needs none.
    const entries = await new HistoryStore(documents, request.table, 1).forApp(request.appKey, request.limit);
    output.stdout(request.json ? `${JSON.stringify(entries, null, 2)}\n` : formatHistory(request.appKey, entries));
    return EXIT_OK;
  } catch (error) {
    const name = (error as Error)?.name ?? 'Error';
    output.stderr(`error: could not read the history (${name}): check --stack or --history-table, --region and that your credentials may query it\n`);
    return EXIT_FAILED;
  } finally {
    documents.destroy();
  }
};

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
