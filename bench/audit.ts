/**
 * `npm run bench:audit`: the drift audit as operators run it, `npm run audit -- --repair --apply`
 * (the command's own entry function, in-process, paced as shipped), over an inventory seeded in
 * the local stand-ins: API keys tagged with the deployment and linked to its plans, app clients
 * listed in Cognito's pages of 60, and a share of drift of each kind for the repair to do. Then the
 * audit again, as the next day's would run. Prints what it measured (wall time, calls per API) and,
 * apart and labelled so, what the documented rate limits make of the same calls on AWS.
 * Writes bench/results/audit.json.
 *
 * BENCH_AUDIT_KEYS (default 10,000) and BENCH_AUDIT_CLIENTS (default 1,000) set the inventory;
 * paced, the default takes several minutes, as it would on AWS.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, UpdateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { functionDefaults } from '#commons/defaults';
import { appKeyTag, deploymentTag, managedByTag, managedByValue } from '#provisioning/api-key-provisioner';
import { apiGatewayRates, type ClientRateRules, cognitoRates } from '../lambda/audit/rate-limiter.ts';
import { startLocalWebhook } from '../local/local-webhook.ts';
import { main } from '../tools/audit.ts';
import { startPagingCognito } from './paging-cognito.ts';

const keyCount = Number(process.env.BENCH_AUDIT_KEYS ?? 10_000);
const clientCount = Number(process.env.BENCH_AUDIT_CLIENTS ?? 1_000);
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
/** The seeded plans, the deployment's (as the stack sets USAGE_PLAN_IDS); keys alternate between the first two, one stage. */
const seededPlans = (
  JSON.parse(readFileSync(new URL('../local/seed.json', import.meta.url), 'utf8')) as { usagePlans: { id: string }[] }
).usagePlans.map((plan) => plan.id);
const [planA = '', planB = ''] = seededPlans;

/**
 * The drift seeded, by position in each hundred: keys 0-1 orphans (no record), 2 gone (recorded,
 * deleted), 3 moved to another plan, 4 disabled by hand; clients 0-1 orphans, 2 with a scope narrowed.
 */
const keyDrift = (index: number) => (['ORPHAN', 'ORPHAN', 'GONE', 'GRANT_MISMATCH', 'DISABLED_KEY'] as const)[index % 100];
const clientDrift = (index: number) => (['ORPHAN', 'ORPHAN', 'GRANT_MISMATCH'] as const)[index % 100];

const inParallel = async <T>(count: number, concurrency: number, run: (index: number) => Promise<T>): Promise<T[]> => {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await run(index);
      }
    }),
  );
  return results;
};

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const webhook = await startLocalWebhook({
  basicCredentials: [{ username: 'bench', password: 'bench-password' }],
  environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
});
// cognito-local does not page its listing: the audit reaches it through a proxy that does, as Cognito.
const pagingCognito = await startPagingCognito(webhook.cognito.url);
process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = pagingCognito.url;
const apiGateway = new APIGatewayClient({ ...local, endpoint: webhook.controlPlane.url });
const cognito = new CognitoIdentityProviderClient({ ...local, endpoint: webhook.cognito.url });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...local, endpoint: webhook.dynamoDbUrl }));

console.log(`Seeding ${keyCount} API keys and ${clientCount} app clients with their registry records, about 5% and 3% of them drifted…`);
const seedStart = performance.now();
const now = new Date().toISOString();
type SeededRecord = Record<string, unknown>;
const record = (
  appKey: string,
  credentialType: 'API_KEY' | 'CLIENT_CREDENTIALS',
  credentialId: string,
  grant: { usagePlanIds: string[]; scopes: string[] },
) => ({
  appKey,
  appSlug: appKey,
  appName: appKey,
  developer: 'bench@example.com',
  credentialType,
  state: 'ACTIVE',
  credentialId,
  apiIds: [credentialType === 'API_KEY' ? '5aba4csvd4' : 'q8w2e4r6t1'],
  ...grant,
  createdAt: now,
  updatedAt: now,
});
const keyRecords = await inParallel(keyCount, 32, async (index): Promise<SeededRecord | undefined> => {
  const appKey = `bench-key-${index}`;
  const drift = keyDrift(index);
  if (drift === 'GONE') return record(appKey, 'API_KEY', `gone${index}`, { usagePlanIds: [planA], scopes: [] });
  const tags = { [managedByTag]: managedByValue, [appKeyTag]: appKey, [deploymentTag]: functionDefaults.deploymentId };
  const { id } = await apiGateway.send(new CreateApiKeyCommand({ name: `portal-${appKey}`, enabled: true, tags }));
  const keyId = id as string;
  await apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId: drift === 'GRANT_MISMATCH' ? planB : planA, keyId, keyType: 'API_KEY' }));
  if (drift === 'DISABLED_KEY') {
    await apiGateway.send(new UpdateApiKeyCommand({ apiKey: keyId, patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }] }));
  }
  return drift === 'ORPHAN' ? undefined : record(appKey, 'API_KEY', keyId, { usagePlanIds: [planA], scopes: [] });
});
const clientRecords = await inParallel(clientCount, 8, async (index): Promise<SeededRecord | undefined> => {
  const appKey = `bench-client-${index}`;
  const drift = clientDrift(index);
  const { UserPoolClient } = await cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: webhook.cognito.userPoolId,
      ClientName: `portal-${appKey}`,
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: drift === 'GRANT_MISMATCH' ? ['payments/read'] : ['payments/read', 'payments/write'],
    }),
  );
  const scopes = ['payments/read', 'payments/write'];
  return drift === 'ORPHAN' ? undefined : record(appKey, 'CLIENT_CREDENTIALS', UserPoolClient?.ClientId as string, { usagePlanIds: [], scopes });
});
const records = [...keyRecords, ...clientRecords].filter((item) => item !== undefined);
for (let index = 0; index < records.length; index += 25) {
  await documents.send(
    new BatchWriteCommand({ RequestItems: { [webhook.tableName]: records.slice(index, index + 25).map((Item) => ({ PutRequest: { Item } })) } }),
  );
}
console.log(`Seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s.`);

interface CommandRun {
  exitCode: number;
  seconds: number;
  calls: Record<string, number>;
  drift: Record<string, number>;
  repairs: Record<string, number>;
}

/** `npm run audit -- …` as the operator runs it, on the deployment's environment, paced as shipped. */
const runCommand = async (...args: string[]): Promise<CommandRun> => {
  let stdout = '';
  const env = { ...process.env, DEPLOYMENT_ID: functionDefaults.deploymentId, USAGE_PLAN_IDS: seededPlans.join(',') };
  const started = performance.now();
  const exitCode = await main(['--table', webhook.tableName, '--user-pool-id', webhook.cognito.userPoolId, '--json', '--quiet', ...args], env, {
    output: { stdout: (text) => void (stdout += text), stderr: () => {} },
  });
  const seconds = (performance.now() - started) / 1000;
  const run = JSON.parse(stdout) as {
    calls: Record<string, number>;
    report: { counts: Record<string, number> };
    repairs: { action: string; outcome: string }[];
  };
  const repairs: Record<string, number> = {};
  for (const { action, outcome } of run.repairs) repairs[`${action} ${outcome}`] = (repairs[`${action} ${outcome}`] ?? 0) + 1;
  return { exitCode, seconds: Number(seconds.toFixed(1)), calls: run.calls, drift: run.report.counts, repairs };
};

console.log('Running npm run audit -- --repair --apply (paced), then npm run audit again…');
const repairRun = await runCommand('--repair', '--apply');
const nextRun = await runCommand();

/**
 * Extrapolated, not measured: the time the same calls take on AWS when the audit's pacing (80% of
 * AWS's documented limits) is what bounds them, each operation's calls one after another at its own
 * rate where it has one (DeleteApiKey 4/s, each Cognito app-client operation 4/s), else its client's
 * (API Gateway 8/s in all). Somewhat high where calls fit between others' (a GetApiKey between two
 * paced deletes); AWS's round trips add to the repairs, whose steps wait on each other.
 */
const pacedSeconds = (calls: Record<string, number>) => {
  const rateOf = (service: string, operation: string) => {
    const rules: ClientRateRules | undefined = service === 'apigateway' ? apiGatewayRates : service === 'cognito-idp' ? cognitoRates : undefined;
    return rules ? (rules.operations?.[operation] ?? rules.total).perSecond : Number.POSITIVE_INFINITY;
  };
  return Math.ceil(
    Object.entries(calls).reduce((sum, [name, count]) => {
      const [service = '', operation = ''] = name.split(':');
      return sum + count / rateOf(service, operation);
    }, 0),
  );
};

const result = {
  inventory: { apiKeys: keyCount, appClients: clientCount },
  measured: {
    note: 'npm run audit in-process against the local stand-ins, paced as shipped; Cognito listed in pages of 60 (a paging proxy: cognito-local does not page)',
    repairRun,
    nextRun,
  },
  extrapolatedForAws: {
    note: "not measured: the calls above at the audit's paced rates (80% of AWS's documented limits), each operation's one after another",
    repairRunSeconds: pacedSeconds(repairRun.calls),
    nextRunSeconds: pacedSeconds(nextRun.calls),
  },
};
const callsLine = (calls: Record<string, number>) =>
  Object.entries(calls)
    .map(([operation, n]) => `${operation} ${n}`)
    .join(', ');
const countsLine = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
console.log(`
Inventory: ${keyCount.toLocaleString('en-US')} API keys and ${clientCount.toLocaleString('en-US')} app clients.

MEASURED here (npm run audit in-process, paced as shipped, local stand-ins):
  --repair --apply: ${repairRun.seconds} s, exit ${repairRun.exitCode}; drift ${countsLine(repairRun.drift)}; repairs ${countsLine(repairRun.repairs)}
    calls: ${callsLine(repairRun.calls)}
  next audit:       ${nextRun.seconds} s, exit ${nextRun.exitCode}; drift ${countsLine(nextRun.drift) || 'none'}
    calls: ${callsLine(nextRun.calls)}

EXTRAPOLATED for AWS (not measured: the same calls at the audit's paced rates, ${apiGatewayRates.total.perSecond}/s API Gateway, ${
  apiGatewayRates.operations?.DeleteApiKey?.perSecond
}/s DeleteApiKey, ${cognitoRates.operations?.DescribeUserPoolClient?.perSecond}/s per Cognito app-client operation; AWS round trips add to the repairs):
  --repair --apply: about ${result.extrapolatedForAws.repairRunSeconds} s; next audit: about ${result.extrapolatedForAws.nextRunSeconds} s`);
mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
writeFileSync(join(process.cwd(), 'bench', 'results', 'audit.json'), `${JSON.stringify(result, null, 2)}\n`);
apiGateway.destroy();
cognito.destroy();
documents.destroy();
await pagingCognito.close();
await webhook.close();
