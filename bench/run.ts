/**
 * `npm run bench`: size, cold init, warm overhead and AWS round trips of the four
 * functions, printed as a table and written to bench/results/latest.json, each
 * figure beside its target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleAll, functions } from './bundles.ts';
import { measureColdInit } from './cold-init.ts';

const targets = { bundleKb: 400, initRatio: 1.3, p50Ms: 0.3, p99Ms: 2, createApiGatewaySteps: 2 };
const outDir = join(process.cwd(), 'bench', 'results');
mkdirSync(outDir, { recursive: true });

// What a deployed function finds in its environment: both credential kinds configured.
const functionEnvironment = {
  AWS_REGION: 'us-east-1',
  REGISTRY_TABLE_NAME: 'registry',
  BASIC_AUTH_SECRET_ID: 'basic-auth',
  CREDENTIAL_POLICY: JSON.stringify({ defaultType: 'API_KEY', apis: { pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] } } }),
  USER_POOL_ID: 'us-east-1_Bench1',
  TOKEN_URL: 'https://bench.auth.us-east-1.amazoncognito.com/oauth2/token',
};

console.log('Bundling as deployed (esbuild, ESM, minified, SDK bundled)…');
const bundles = await bundleAll(join(outDir, 'bundles'));

const runs = Number(process.env.BENCH_COLD_RUNS ?? 15);
console.log(`Cold init: ${runs} interleaved process starts per bundle…`);
const cold = measureColdInit(
  {
    'node -e 0': null,
    ...Object.fromEntries(Object.values(bundles.baselines).map((bundle) => [bundle.name, bundle.file])),
    ...Object.fromEntries(bundles.functions.map((bundle) => [bundle.name, bundle.file])),
  },
  functionEnvironment,
  runs,
);

console.log('Warm overhead and AWS round trips (AWS answered in-process)…');
const warmFile = join(outDir, 'warm.json');
execFileSync(process.execPath, ['--import', 'tsx', 'bench/warm.ts'], {
  env: { ...process.env, ...functionEnvironment, BENCH_OUT: warmFile, POWERTOOLS_LOG_LEVEL: 'INFO' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const warm = JSON.parse(readFileSync(warmFile, 'utf8')) as {
  overhead: Record<string, { p50: number; p99: number; ownP50: number; ownP99: number }>;
  roundTrips: Record<string, { apiGateway: number; total: number; calls: number }>;
  iterations: number;
};

const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const fixed = (value: number, digits = 1) => value.toFixed(digits);

const functionRows = functions.map((fn) => {
  const bundle = bundles.functions.find((candidate) => candidate.name === fn.name)!;
  const initMs = cold[fn.name]!;
  const baselineMs = cold[`baseline-${fn.baseline}`]!;
  return {
    function: fn.name,
    bundleKb: bundle.bytes / 1024,
    initMs,
    baseline: fn.baseline,
    baselineMs,
    ratio: initMs / baselineMs,
    ratioToNode: initMs / cold['node -e 0']!,
  };
});

console.log(`\nnode -e 0: ${fixed(cold['node -e 0']!)} ms (whole process, median of ${runs})`);
console.table(
  functionRows.map((row) => ({
    function: row.function,
    'bundle KB': `${fixed(row.bundleKb)} ${mark(row.bundleKb <= targets.bundleKb)} (≤ ${targets.bundleKb})`,
    'init ms': fixed(row.initMs),
    'x node -e 0': fixed(row.ratioToNode, 2),
    [`baseline (one client) ms`]: `${fixed(row.baselineMs)} ${row.baseline}`,
    'init / baseline': `${fixed(row.ratio, 2)} ${mark(row.ratio <= targets.initRatio)} (≤ ${targets.initRatio})`,
  })),
);
console.log(`Warm overhead per request, ${warm.iterations} requests each; AWS answered inside the SDK clients.`);
console.log("'webhook' is the request's time less the time inside SDK calls (the targets apply to it); 'with SDK' includes the SDK's own work:");
console.table(
  Object.entries(warm.overhead).map(([route, { p50, p99, ownP50, ownP99 }]) => ({
    route,
    'webhook p50 ms': `${fixed(ownP50, 3)} ${mark(ownP50 <= targets.p50Ms)} (≤ ${targets.p50Ms})`,
    'webhook p99 ms': `${fixed(ownP99, 3)} ${mark(ownP99 <= targets.p99Ms)} (≤ ${targets.p99Ms})`,
    'with SDK p50 ms': fixed(p50, 3),
    'with SDK p99 ms': fixed(p99, 3),
  })),
);
console.log('Sequential AWS round trips per operation (Basic-auth secret cached):');
console.table(
  Object.entries(warm.roundTrips).map(([operation, trips]) => ({
    operation,
    'API Gateway steps': operation.includes('usage plan') ? `${trips.apiGateway} ${mark(trips.apiGateway <= targets.createApiGatewaySteps)} (≤ ${targets.createApiGatewaySteps})` : trips.apiGateway,
    'all AWS steps (with DynamoDB)': trips.total,
    'AWS calls': trips.calls,
  })),
);

const resultFile = join(outDir, 'latest.json');
writeFileSync(resultFile, `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, targets, nodeBaselineMs: cold['node -e 0'], functions: functionRows, warm }, null, 2)}\n`);
console.log(`\nWritten to ${resultFile}`);
