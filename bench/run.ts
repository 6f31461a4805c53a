/**
 * `npm run bench`: size, cold init, warm overhead and AWS round trips of the four
 * functions, printed as a table and written to bench/results/latest.json, each
 * figure beside its target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ColdStart, measureColdInit } from './cold-init.ts';
import { synthesizeDeployedFunctions } from './deployed-functions.ts';

const targets = { bundleKb: 400, initRatio: 1.15, p50Ms: 0.3, p99Ms: 2, createApiGatewaySteps: 2 };
const outDir = join(process.cwd(), 'bench', 'results');
mkdirSync(outDir, { recursive: true });

console.log('Synthesizing the stack as cdk synth does (the construct bundles each function)…');
const assemblyDir = join(outDir, 'cdk.out');
rmSync(assemblyDir, { recursive: true, force: true });
const deployed = synthesizeDeployedFunctions(assemblyDir);

/** The same start without the source maps the stack turns on (NODE_OPTIONS), to show what they cost. */
const withoutSourceMaps = ({ NODE_OPTIONS: _, ...environment }: Record<string, string>) => environment;
const noMaps = (name: string) => `${name} (no source maps)`;

const runs = Number(process.env.BENCH_COLD_RUNS ?? 15);
console.log(`Cold init: ${runs} interleaved process starts per bundle, in each function's Lambda environment…`);
const starts: Record<string, ColdStart> = { 'node -e 0': { file: null, environment: {} } };
for (const bundle of [...deployed.baselines, ...deployed.functions]) {
  starts[bundle.name] = { file: bundle.file, environment: bundle.environment };
  starts[noMaps(bundle.name)] = { file: bundle.file, environment: withoutSourceMaps(bundle.environment) };
}
const cold = measureColdInit(starts, runs);

console.log('Warm overhead and AWS round trips (AWS answered at the SDK clients\' HTTP handler)…');
const warmFile = join(outDir, 'warm.json');
// The handlers run from source here (tsx, not the bundles): the stack's NODE_OPTIONS is about bundles.
// Without USAGE_PLAN_IDS any usage plan is allowed, so that the requests' plans (p0…p9) are not refused before AWS is called.
const { USAGE_PLAN_IDS: _plans, ...deployedEnvironment } = withoutSourceMaps(deployed.functions[0]!.environment);
const warmEnvironment = {
  ...deployedEnvironment,
  CREDENTIAL_POLICY: JSON.stringify({ defaultType: 'API_KEY', apis: { pay1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] } } }),
};
execFileSync(process.execPath, ['--import', 'tsx', 'bench/warm.ts'], {
  env: { ...process.env, ...warmEnvironment, BENCH_OUT: warmFile, POWERTOOLS_LOG_LEVEL: 'INFO' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const warm = JSON.parse(readFileSync(warmFile, 'utf8')) as {
  overhead: Record<string, { p50: number; p99: number; ownP50: number; ownP99: number }>;
  roundTrips: Record<string, { apiGateway: number; total: number; calls: number }>;
  iterations: number;
};

const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const fixed = (value: number, digits = 1) => value.toFixed(digits);

const functionRows = deployed.functions.map((bundle) => {
  const initMs = cold[bundle.name]!;
  const baselineMs = cold[bundle.baseline]!;
  return {
    function: bundle.name,
    bundleKb: bundle.bytes / 1024,
    sourceMapKb: bundle.sourceMapBytes / 1024,
    initMs,
    initWithoutSourceMapsMs: cold[noMaps(bundle.name)]!,
    baseline: bundle.baseline,
    baselineMs,
    baselineWithoutSourceMapsMs: cold[noMaps(bundle.baseline)]!,
    ratio: initMs / baselineMs,
    ratioWithoutSourceMaps: cold[noMaps(bundle.name)]! / cold[noMaps(bundle.baseline)]!,
    ratioToNode: initMs / cold['node -e 0']!,
  };
});

console.log(`\nnode -e 0: ${fixed(cold['node -e 0']!)} ms (whole process, median of ${runs}), Node ${process.version}`);
console.log("Cold init as deployed (the construct's bundle and source map, the function's environment with NODE_OPTIONS):");
console.table(
  functionRows.map((row) => ({
    function: row.function,
    'bundle KB': `${fixed(row.bundleKb)} ${mark(row.bundleKb <= targets.bundleKb)} (≤ ${targets.bundleKb})`,
    'map KB': fixed(row.sourceMapKb),
    'init ms': fixed(row.initMs),
    'x node -e 0': fixed(row.ratioToNode, 2),
    'baseline (one client) ms': `${fixed(row.baselineMs)} ${row.baseline.replace('baseline-', '')}`,
    'init / baseline': `${fixed(row.ratio, 2)} ${mark(row.ratio <= targets.initRatio)} (≤ ${targets.initRatio})`,
  })),
);
console.log('The same starts without source maps (NODE_OPTIONS unset), for what they cost:');
console.table(
  functionRows.map((row) => ({
    function: row.function,
    'init ms': fixed(row.initWithoutSourceMapsMs),
    'source maps cost ms': fixed(row.initMs - row.initWithoutSourceMapsMs),
    'baseline ms': fixed(row.baselineWithoutSourceMapsMs),
    'init / baseline': fixed(row.ratioWithoutSourceMaps, 2),
  })),
);
console.log(`Warm overhead per request, ${warm.iterations} requests each; AWS answered by recorded HTTP responses at the SDK clients' request handler.`);
console.log("'webhook' is the request's time less the time inside SDK calls (the targets apply to it); 'with SDK' adds the SDK's work (serialize, sign, retry, parse):");
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
