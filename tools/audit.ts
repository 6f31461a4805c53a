/**
 * Compares what the webhook's registry records with what exists in AWS, and repairs the drift.
 *
 *   npm run audit -- --table NAME [--deployment-id STACK] [--user-pool-id ID] [--usage-plans a,b] [--json] [--repair [--apply]]
 *
 * Reads every page (progress on stderr), prints a table (or JSON) on stdout. Exit codes:
 * 0 no drift (or all of it repaired), 3 drift left, 1 AWS failed or a repair failed, 2 wrong usage.
 * Credentials the webhook did not make are listed as foreign and never touched. No secret is read
 * into the output: API key values are never requested, app-client secrets are dropped unread.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CredentialPolicySettings, userPoolIdPattern } from '#commons/config';
import { defaultStackName, deploymentIdPattern, functionDefaults } from '#commons/defaults';
import { accountIdPattern, type ProvisioningTarget, placementProblems } from '#commons/places';
import { withCaller } from '#history/caller';
import { type AcknowledgementRequest, maxAcknowledgementDays, parseAcknowledgement } from '../lambda/audit/acknowledgements.ts';
import { Audit, type AuditRun, type AuditTarget } from '../lambda/audit/audit.ts';
import { driftKinds } from '../lambda/audit/drift.ts';
import type { InventoryProgress } from '../lambda/audit/inventory.ts';
import type { RepairResult } from '../lambda/audit/repair.ts';
import { findingsApartLines, gaugeLines, verdictLine } from '../lambda/audit/report-text.ts';
import { callerArn } from './caller-identity.ts';
import { type CliOutput, EXIT_DRIFT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, isEntryPoint, parseOrExit, processOutput } from './cli.ts';
import { outputsOfStackFlag, type StackOutputs, stackOption } from './stack-outputs.ts';

/** The audit could not read a kind of credential the registry holds: it cannot say there is no drift. */
export const EXIT_INCOMPLETE = 4;

export const USAGE = `Usage: portal-credentials audit --stack <stack> [options]
       portal-credentials audit --registry-table <registry table> [options]

Compares the webhook's registry with AWS and reports, per app: orphans (made by the webhook,
not held by the registry), credentials gone from AWS, usage plans or scopes that differ, creates
stuck past their claim's lease, and API keys disabled outside the webhook. Credentials the webhook
did not make are listed as foreign and never touched.

With --stack, every value below comes from the stack's outputs (DescribeStacks); a flag overrides
its output, an output overrides the environment variable named.

Options:
  --stack <name>               The deployment's CloudFormation stack: reads its outputs
  --registry-table <name>      The registry table (alias --table; output RegistryTableName, REGISTRY_TABLE_NAME)
  --user-pool-id <id>          Also audit the pool's app clients (output UserPoolId, USER_POOL_ID)
  --app-clients-quota <n>      The pool's quota of app clients its gauge counts against (output AppClientsQuota,
                               APP_CLIENTS_QUOTA, default ${functionDefaults.appClientsQuota}); compared with the quota
                               Service Quotas applies, a difference reported as QUOTA MISMATCH (not drift)
  --deployment-id <id>         The deployment whose API keys are audited, the keys' tag portal-deployment
                               (output DeploymentId, DEPLOYMENT_ID, default ${defaultStackName}). Another
                               deployment's keys in the account and Region are foreign, never touched
  --targets <json>             The provisioning targets of the credential policy (output ProvisioningTargets, or
                               CREDENTIAL_POLICY's targets): the API keys of every account and Region they cover
                               are audited too, another account's through the role the target names
  --account <id>               The deployment's own account (output DeploymentAccountId, DEPLOYMENT_ACCOUNT_ID,
                               default ${functionDefaults.accountId}): records and plan ids without a place are there
  --usage-plans <a,b,...>      The usage plans the deployment links keys to (output UsagePlanIds, USAGE_PLAN_IDS,
                               or CREDENTIAL_POLICY's usagePlanIds; without any, every plan of the account is
                               read, and --apply is refused: it could unlink keys from plans made by hand.
                               A deployment that issues no API keys: --usage-plans "")
  --access-token-validity-minutes <n>
                               The deployment's token lifetime, resent when scopes are repaired (Cognito resets
                               what an update omits; output AccessTokenValidityMinutes, ACCESS_TOKEN_VALIDITY_MINUTES,
                               default ${functionDefaults.accessTokenValidityMinutes})
  --history-table <name>       Where each applied repair is recorded (output HistoryTableName, HISTORY_TABLE_NAME).
                               --repair --apply refuses to run without one, unless --no-history says so
  --history-retention-days <n> How long those entries are kept: the deployment's setting (output
                               HistoryRetentionDays, HISTORY_RETENTION_DAYS); required with a history table and --apply
  --no-history                 With --repair --apply: record nothing, knowingly (the repairs leave no history)
  --lease-seconds <n>          The webhook's claim lease (output ClaimLeaseSeconds, CLAIM_LEASE_SECONDS, default ${functionDefaults.claimLeaseSeconds})
  --region <region>            AWS Region (default: AWS_REGION or your profile's)
  --json                       Print the report as one JSON document on stdout (progress stays on stderr)
  --repair                     Say what the repair would do (dry run)
  --apply                      With --repair: do it, credited in the history to your AWS identity (STS
                               GetCallerIdentity). Each action is printed as it is done; Ctrl-C stops
                               between two actions, and running again resumes
  --acknowledge <KIND:ID:YYYY-MM-DD:reason>
                               Acknowledge one current finding (its credential id, or its app when it names
                               none) as a known exception until that day (at most ${maxAcknowledgementDays} days): it is then
                               reported apart, not counted nor alarmed on, not repaired; new drift still counts
  --quiet                      No progress display
  -h, --help                   Show this help

Exit codes: 0 no drift (or all of it repaired), 3 drift left, 4 incomplete (a kind of credential the registry
holds was not read), 1 AWS or a repair failed, 2 wrong usage (or an acknowledgement naming no current finding).
`;

interface AuditCommand {
  target: AuditTarget;
  /** Where applied repairs are recorded; none for a report, or with --no-history. */
  history?: { tableName: string; retentionDays: number };
  json: boolean;
  repair: boolean;
  apply: boolean;
  quiet: boolean;
  acknowledge?: AcknowledgementRequest;
}

const positiveInteger = (text: string, flag: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} must be a positive whole number, not "${text}"`);
  return value;
};

const planList = (text: string) =>
  text
    .split(',')
    .map((plan) => plan.trim())
    .filter(Boolean);

/** The deployment's provisioning targets: --targets, the stack's output, else CREDENTIAL_POLICY's (as the functions read them). */
const targetsOf = (text: string | undefined, env: NodeJS.ProcessEnv): ProvisioningTarget[] | undefined => {
  let policy: unknown;
  try {
    policy = text !== undefined ? { targets: JSON.parse(text) } : env.CREDENTIAL_POLICY ? JSON.parse(env.CREDENTIAL_POLICY) : undefined;
  } catch {
    throw new Error(text !== undefined ? '--targets is not valid JSON' : 'CREDENTIAL_POLICY is not valid JSON');
  }
  if (policy === undefined) return undefined;
  const parsed = CredentialPolicySettings.safeParse({ targets: (policy as { targets?: unknown }).targets });
  if (!parsed.success) throw new Error(`the provisioning targets are not valid: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return parsed.data.targets;
};

/** The deployment's plans as its functions read them: USAGE_PLAN_IDS (what the stack sets), else CREDENTIAL_POLICY's. */
const usagePlansFromEnvironment = (env: NodeJS.ProcessEnv): string[] | undefined => {
  if (env.USAGE_PLAN_IDS !== undefined) return planList(env.USAGE_PLAN_IDS);
  if (!env.CREDENTIAL_POLICY) return undefined;
  try {
    return (JSON.parse(env.CREDENTIAL_POLICY) as { usagePlanIds?: string[] }).usagePlanIds;
  } catch {
    throw new Error('CREDENTIAL_POLICY is not valid JSON');
  }
};

export const parseCommandLine = (args: readonly string[], env: NodeJS.ProcessEnv, outputs: StackOutputs = {}): AuditCommand | 'help' => {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...stackOption,
      table: { type: 'string' },
      'registry-table': { type: 'string' },
      'user-pool-id': { type: 'string' },
      'app-clients-quota': { type: 'string' },
      'usage-plans': { type: 'string' },
      'deployment-id': { type: 'string' },
      targets: { type: 'string' },
      account: { type: 'string' },
      'access-token-validity-minutes': { type: 'string' },
      'lease-seconds': { type: 'string' },
      'history-table': { type: 'string' },
      'history-retention-days': { type: 'string' },
      'no-history': { type: 'boolean', default: false },
      region: { type: 'string' },
      json: { type: 'boolean', default: false },
      repair: { type: 'boolean', default: false },
      apply: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      acknowledge: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const table = values['registry-table'] ?? values.table ?? outputs.RegistryTableName ?? env.REGISTRY_TABLE_NAME;
  if (!table) throw new Error('--registry-table is required (or --stack, or set REGISTRY_TABLE_NAME)');
  if (values.apply && !values.repair) throw new Error('--apply goes with --repair');
  const userPoolId = values['user-pool-id'] ?? outputs.UserPoolId ?? env.USER_POOL_ID;
  if (userPoolId !== undefined && !userPoolIdPattern.test(userPoolId)) throw new Error(`--user-pool-id "${userPoolId}" is not a user pool id`);
  const deploymentId = values['deployment-id'] ?? outputs.DeploymentId ?? env.DEPLOYMENT_ID ?? defaultStackName;
  if (!deploymentIdPattern.test(deploymentId)) throw new Error(`--deployment-id "${deploymentId}" is not a stack name`);
  const plansText = values['usage-plans'] ?? outputs.UsagePlanIds;
  const plans = plansText !== undefined ? planList(plansText) : usagePlansFromEnvironment(env);
  // Without the deployment's plans every link counts as its own: a repair would unlink keys from plans made by hand.
  if (values.apply && plans === undefined) {
    throw new Error(
      '--repair --apply needs the usage plans the deployment links keys to: give --stack or --usage-plans (or set USAGE_PLAN_IDS), --usage-plans "" if it issues no API keys',
    );
  }
  const validity = positiveInteger(
    values['access-token-validity-minutes'] ??
      outputs.AccessTokenValidityMinutes ??
      env.ACCESS_TOKEN_VALIDITY_MINUTES ??
      String(functionDefaults.accessTokenValidityMinutes),
    '--access-token-validity-minutes',
  );
  if (validity < 5 || validity > 1440) throw new Error('--access-token-validity-minutes must be between 5 and 1440');
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const targets = targetsOf(values.targets ?? outputs.ProvisioningTargets, env);
  const account = values.account ?? outputs.DeploymentAccountId ?? env.DEPLOYMENT_ACCOUNT_ID ?? functionDefaults.accountId;
  if (!accountIdPattern.test(account)) throw new Error(`--account "${account}" is not a 12-digit AWS account id`);
  if (targets?.length && region === undefined) throw new Error('--region is required to audit the places the provisioning targets cover');
  const home = { account, region: region ?? functionDefaults.region };
  // The functions refuse these at cold start: an audit with them would read places they never reach.
  const problems = placementProblems({}, targets ?? [], home);
  if (problems.length > 0) throw new Error(`the provisioning targets cannot be served: ${problems.join('; ')}`);
  const history = values.apply ? historyOf(values, env, outputs) : undefined;
  return {
    ...(history ? { history } : {}),
    target: {
      registryTableName: table,
      apiKeys: { deploymentId, ...(plans ? { linkableUsagePlanIds: plans } : {}), home, ...(targets?.length ? { targets } : {}) },
      ...(userPoolId
        ? {
            appClients: { userPoolId, tokenUrl: 'https://unused.invalid/oauth2/token', accessTokenValidityMinutes: validity, deploymentId },
            appClientsLimit: positiveInteger(
              values['app-clients-quota'] ?? outputs.AppClientsQuota ?? env.APP_CLIENTS_QUOTA ?? String(functionDefaults.appClientsQuota),
              '--app-clients-quota',
            ),
          }
        : {}),
      leaseMs:
        positiveInteger(
          values['lease-seconds'] ?? outputs.ClaimLeaseSeconds ?? env.CLAIM_LEASE_SECONDS ?? String(functionDefaults.claimLeaseSeconds),
          '--lease-seconds',
        ) * 1000,
      ...(region ? { region } : {}),
    },
    json: values.json,
    repair: values.repair,
    apply: values.apply,
    quiet: values.quiet,
    ...(values.acknowledge !== undefined ? { acknowledge: parseAcknowledgement(values.acknowledge, Date.now()) } : {}),
  };
};

/**
 * Where applied repairs are recorded, and for how long: the deployment's own table and retention.
 * Without a table the repairs would leave no history, which docs/operators.md promises they do: refused
 * unless --no-history acknowledges it. A retention guessed here would outlive or cut short the
 * deployment's own entries: refused too.
 */
const historyOf = (
  values: { 'history-table'?: string; 'history-retention-days'?: string; 'no-history'?: boolean },
  env: NodeJS.ProcessEnv,
  outputs: StackOutputs,
): AuditCommand['history'] => {
  const tableName = values['history-table'] ?? outputs.HistoryTableName ?? env.HISTORY_TABLE_NAME;
  if (values['no-history']) {
    if (values['history-table'] !== undefined) throw new Error('--no-history and --history-table contradict each other');
    return undefined;
  }
  if (!tableName) {
    throw new Error(
      "--repair --apply records every repair in the deployment's history: give --stack or --history-table (or set HISTORY_TABLE_NAME), or --no-history to repair without a record",
    );
  }
  const days = values['history-retention-days'] ?? outputs.HistoryRetentionDays ?? env.HISTORY_RETENTION_DAYS;
  if (days === undefined) {
    throw new Error(
      '--repair --apply keeps history entries as long as the deployment does: give --stack or --history-retention-days (or set HISTORY_RETENTION_DAYS)',
    );
  }
  return { tableName, retentionDays: positiveInteger(days, '--history-retention-days') };
};

/** One line per step on a log; on a terminal, one line rewritten in place. */
export const progressDisplay = (output: CliOutput, terminal: boolean) => {
  let current: InventoryProgress | undefined;
  let shownAt = 0;
  const line = (progress: InventoryProgress) =>
    `reading ${progress.step}: ${progress.done.toLocaleString('en-US')}${progress.total === undefined ? '' : ` of ${progress.total.toLocaleString('en-US')}`}`;
  return {
    update(progress: InventoryProgress) {
      if (current && current.step !== progress.step && !terminal) output.stderr(`${line(current)}\n`);
      current = progress;
      if (terminal && Date.now() - shownAt > 100) {
        shownAt = Date.now();
        output.stderr(`\r\x1b[2K${line(progress)}`);
      }
    },
    done() {
      if (current) output.stderr(terminal ? `\r\x1b[2K${line(current)}\n` : `${line(current)}\n`);
    },
  };
};

const pad = (rows: string[][]) => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};

export const repairLine = (result: RepairResult) =>
  `${result.outcome.padEnd(7)} ${result.action} ${result.appKey ?? '-'} ${result.credentialId ?? '-'}: ${result.detail}`;

/** The report as a person reads it. */
export const formatTable = (run: AuditRun, options: { repair: boolean; apply: boolean; table: string }): string => {
  const { report } = run;
  const lines: string[] = [];
  const { totals } = report;
  lines.push(
    `Audit of ${options.table} at ${report.checkedAt}: ${totals.records} registry records, ${totals.apiKeys} API keys and ` +
      `${totals.appClients} app clients made by the webhook, ${totals.foreign} foreign credentials (listed, never touched)`,
    '',
  );
  if (report.drift.length === 0) lines.push(verdictLine(report));
  else {
    lines.push(
      pad([
        ['APP', 'DRIFT', 'TYPE', 'CREDENTIAL', 'DETAIL'],
        ...report.drift.map((d) => [d.appKey ?? '-', d.kind, d.credentialType, d.credentialId ?? '-', d.detail]),
      ]),
    );
  }
  lines.push('', `Drift: ${driftKinds.map((kind) => `${report.counts[kind]} ${kind}`).join(', ')}`, ...findingsApartLines(run));
  if (report.foreign.length > 0) {
    const shown = report.foreign.slice(0, 10);
    lines.push('', `Foreign (not made by the webhook, never touched): ${report.foreign.length}`);
    lines.push(...shown.map((f) => `  ${f.credentialType} ${f.credentialId}${f.place ? ` (${f.place})` : ''} ${f.name}`));
    if (report.foreign.length > shown.length) lines.push(`  … and ${report.foreign.length - shown.length} more (--json lists all)`);
  }
  lines.push(...gaugeLines(run.gauges));
  if (options.repair) {
    lines.push('', options.apply ? 'Repairs:' : 'Repairs (dry run; add --apply to do them):');
    if (run.repairs.length === 0) lines.push('  nothing to repair');
    lines.push(...run.repairs.map((result) => `  ${repairLine(result)}`));
    if (run.notStarted > 0) lines.push(`  stopped: ${run.notStarted} repair(s) not started; run again to resume`);
  }
  const total = Object.values(run.calls).reduce((sum, count) => sum + count, 0);
  lines.push(
    '',
    `AWS calls: ${total} (${Object.entries(run.calls)
      .map(([operation, count]) => `${operation} ${count}`)
      .join(', ')})`,
  );
  return `${lines.join('\n')}\n`;
};

export const exitCodeOf = (run: AuditRun, apply: boolean): number => {
  if (run.repairs.some((result) => result.outcome === 'FAILED')) return EXIT_FAILED;
  if (run.acknowledgement?.recorded === false) return EXIT_USAGE;
  if (!run.report.complete) return EXIT_INCOMPLETE;
  if (!apply) return run.report.drift.length > 0 ? EXIT_DRIFT : EXIT_OK;
  const repaired = run.repairs.filter((result) => result.outcome === 'APPLIED').length;
  return repaired < run.report.drift.length ? EXIT_DRIFT : EXIT_OK;
};

export interface AuditCommandOptions {
  output?: CliOutput;
  /** Whether stderr is a terminal (progress rewritten in place). */
  terminal?: boolean;
  signal?: AbortSignal;
  /** Tests run against stand-ins, which need no pacing. */
  rateLimited?: boolean;
  onRepair?: (result: RepairResult) => void | Promise<void>;
}

/** Runs the command and returns its exit code; never throws. */
export const main = async (args: readonly string[], env: NodeJS.ProcessEnv = process.env, options: AuditCommandOptions = {}): Promise<number> => {
  const output = options.output ?? processOutput;
  const stack = await outputsOfStackFlag(args, env, output);
  if ('exitCode' in stack) return stack.exitCode;
  const parsed = parseOrExit(() => parseCommandLine(args, env, stack.outputs), USAGE, output);
  if ('exitCode' in parsed) return parsed.exitCode;
  const { request } = parsed;
  // The history credits repairs to the AWS identity that makes them, and names this run, so one run's repairs can be found together.
  let principal = 'report only';
  if (request.apply) {
    const identity = await callerArn(request.target.region);
    if ('error' in identity) {
      output.stderr(`error: could not tell whose repairs these are (STS GetCallerIdentity: ${identity.error}): check your AWS credentials\n`);
      return EXIT_FAILED;
    }
    principal = identity.arn;
  }
  const caller = { source: 'repair', principal, requestId: `audit-${randomUUID()}` };
  const audit = new Audit({ ...request.target, ...(options.rateLimited === false ? { rateLimited: false } : {}) });
  const progress = progressDisplay(output, options.terminal ?? false);
  try {
    const run = await withCaller(caller, () =>
      audit.run({
        repair: request.repair,
        apply: request.apply,
        ...(request.quiet ? {} : { onProgress: progress.update }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(request.acknowledge ? { acknowledge: request.acknowledge } : {}),
        ...(request.history ? { history: audit.historyStore(request.history.tableName, request.history.retentionDays) } : {}),
        onRepair: async (result) => {
          if (request.apply) output.stderr(`${repairLine(result)}\n`);
          await options.onRepair?.(result);
        },
      }),
    );
    if (!request.quiet) progress.done();
    output.stdout(request.json ? `${JSON.stringify(run, null, 2)}\n` : formatTable(run, { ...request, table: request.target.registryTableName }));
    return exitCodeOf(run, request.apply);
  } catch (error) {
    const name = (error as Error)?.name ?? 'Error';
    const hint = /CredentialsProviderError|region is missing/i.test(`${name} ${(error as Error)?.message}`)
      ? 'set AWS credentials and --region (or AWS_REGION)'
      : name === 'ResourceNotFoundException'
        ? 'check --table, --user-pool-id and --region'
        : 'check the names, the Region and that your credentials may read them';
    output.stderr(`error: the audit could not read ${name === 'Error' ? 'AWS' : `(${name})`}: ${hint}\n`);
    return EXIT_FAILED;
  } finally {
    audit.destroy();
  }
};

if (isEntryPoint(import.meta.url)) {
  const stop = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping after the repair in progress; run again to resume\n');
    stop.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.exitCode = await main(process.argv.slice(2), process.env, { terminal: process.stderr.isTTY, signal: stop.signal });
}
