/**
 * `npm run bench`: size, cold init, warm overhead and AWS round trips of the four
 * functions, printed as a table and written to bench/results/latest.json, each
 * figure beside its target; and what a create costs when its APIs live in 1, 2 and 4 places.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createRequest, examplePlanId, proxyEvent, withPlans } from '../test/helpers/portal.ts';
import { type ColdStart, measureColdStarts } from './cold-init.ts';
import { synthesizeDeployedFunctions } from './deployed-functions.ts';
import { type PlacesFigures, placesHeading, placesRows } from './places-report.ts';
import { serveRecordedAws } from './recorded-aws.ts';

const targets = { bundleKb: 400, initRatio: 1.15, p50Ms: 0.3, p99Ms: 2, createApiGatewaySteps: 2 };
const outDir = join(process.cwd(), 'bench', 'results');
mkdirSync(outDir, { recursive: true });

console.log('Synthesizing the stack as cdk synth does (the construct bundles each function)…');
const assemblyDir = join(outDir, 'cdk.out');
rmSync(assemblyDir, { recursive: true, force: true });
const deployed = synthesizeDeployedFunctions(assemblyDir);

/** The same start with source maps the other way round from the stack's choice, to show what they cost. */
const sourceMapsOption = '--enable-source-maps';
const deployedWithSourceMaps = deployed.functions.some((bundle) => bundle.environment.NODE_OPTIONS?.includes(sourceMapsOption));
const otherSourceMaps = ({ NODE_OPTIONS: _, ...environment }: Record<string, string>): Record<string, string> =>
  deployedWithSourceMaps ? environment : { ...environment, NODE_OPTIONS: sourceMapsOption };
const otherMaps = (name: string) => `${name} (${deployedWithSourceMaps ? 'without' : 'with'} source maps)`;

// Each function's first request, as the portal sends it, within the deployment's usage plans.
const [deployedPlan] = (deployed.functions[0]!.environment.USAGE_PLAN_IDS ?? examplePlanId).split(',');
const updateBody = { ...createRequest({ apis: withPlans(deployedPlan!) }), credentialType: 'API_KEY', apiKeyId: 'key1' };
const firstRequests: Record<string, { event: APIGatewayProxyEvent; status: number }> = {
  createCredentials: { event: proxyEvent({ body: createRequest({ apis: withPlans(deployedPlan!) }) }), status: 200 },
  updateCredentials: { event: proxyEvent({ path: '/v1/updateCredentials', body: updateBody }), status: 204 },
  revokeCredentials: { event: proxyEvent({ path: '/v1/revokeCredentials', body: { credentialType: 'API_KEY', apiKeyId: 'key1' } }), status: 204 },
  health: { event: proxyEvent({ method: 'GET', path: '/v1/health' }), status: 204 },
};

const runs = Number(process.env.BENCH_COLD_RUNS ?? 15);
console.log(`Cold starts: ${runs} interleaved processes per bundle, in each function's Lambda environment, AWS answered by a local server…`);
const aws = await serveRecordedAws();
const starts: Record<string, ColdStart> = { 'node -e 0': { file: null, environment: {} } };
for (const bundle of [...deployed.baselines, ...deployed.functions]) {
  const environment = { ...bundle.environment, AWS_ENDPOINT_URL: aws.url };
  const event = firstRequests[bundle.name]?.event;
  starts[bundle.name] = { file: bundle.file, environment, ...(event ? { event } : {}) };
  starts[otherMaps(bundle.name)] = { file: bundle.file, environment: otherSourceMaps(environment), ...(event ? { event } : {}) };
}
const cold = await measureColdStarts(starts, runs, (name) => firstRequests[name.replace(otherMaps(''), '')]?.status);
await aws.close();

console.log("Warm overhead and AWS round trips (AWS answered at the SDK clients' HTTP handler)…");
const warmFile = join(outDir, 'warm.json');
// The handlers run from source here (tsx, not the bundles): NODE_OPTIONS, if any, is about bundles.
// Without USAGE_PLAN_IDS any usage plan is allowed, so that the requests' plans (p0…p9) are not refused before AWS is called.
const { USAGE_PLAN_IDS: _plans, NODE_OPTIONS: _options, ...deployedEnvironment } = deployed.functions[0]!.environment;
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

console.log('A create across 1, 2 and 4 places, against the control-plane stand-in with a fixed per-call latency…');
const placesFile = join(outDir, 'places.json');
execFileSync(process.execPath, ['--import', 'tsx', 'bench/places.ts'], {
  env: { ...process.env, BENCH_OUT: placesFile },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const places = JSON.parse(readFileSync(placesFile, 'utf8')) as PlacesFigures;

const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const fixed = (value: number, digits = 1) => value.toFixed(digits);

const functionRows = deployed.functions.map((bundle) => {
  const figures = cold[bundle.name]!;
  const other = cold[otherMaps(bundle.name)]!;
  const baseline = cold[bundle.baseline]!;
  const clients = cold[bundle.clients]!;
  return {
    function: bundle.name,
    bundleKb: bundle.bytes / 1024,
    sourceMapKb: bundle.sourceMapBytes / 1024,
    ...figures,
    baseline: bundle.baseline,
    baselineMs: baseline.initMs,
    ratio: figures.initMs / baseline.initMs,
    cpuRatio: figures.initCpuMs / baseline.initCpuMs,
    clientsRatio: figures.initMs / clients.initMs,
    clientsCpuRatio: figures.initCpuMs / clients.initCpuMs,
    otherSourceMaps: { ...other, ratio: other.initMs / cold[otherMaps(bundle.baseline)]!.initMs },
  };
});

const nodeStart = cold['node -e 0']!;
const sourceMapsNow = deployedWithSourceMaps ? 'on (NODE_OPTIONS=--enable-source-maps)' : 'off';
console.log(
  `\nnode -e 0: ${fixed(nodeStart.initMs)} ms (${fixed(nodeStart.initCpuMs)} ms CPU), medians of ${runs} processes, Node ${process.version}`,
);
console.log(`Cold start as deployed (the construct's bundle, the function's environment; source maps ${sourceMapsNow}), in ms from Node's start:`);
console.log(
  "'init': Node ready and the handler imported (Lambda's Init Duration); 'first request' adds the first invoke (AWS answered locally, no network);",
);
console.log("'/ route clients': against a bundle holding only the SDK clients the route calls (the SDK's share of the gap):");
console.table(
  functionRows.map((row) => ({
    function: row.function,
    'bundle KB': `${fixed(row.bundleKb)} ${mark(row.bundleKb <= targets.bundleKb)} (≤ ${targets.bundleKb})`,
    'init ms': fixed(row.initMs),
    'baseline (one client) ms': `${fixed(row.baselineMs)} ${row.baseline.replace('baseline-', '')}`,
    'init / baseline': `${fixed(row.ratio, 2)} ${mark(row.ratio <= targets.initRatio)} (≤ ${targets.initRatio})`,
    'CPU ms (/ baseline)': `${fixed(row.initCpuMs)} (${fixed(row.cpuRatio, 2)})`,
    '/ route clients (CPU)': `${fixed(row.clientsRatio, 2)} (${fixed(row.clientsCpuRatio, 2)})`,
    'first request ms': fixed(row.firstRequestMs),
    'first request CPU ms': fixed(row.firstRequestCpuMs),
  })),
);
console.log(`The same starts ${deployedWithSourceMaps ? 'without' : 'with'} source maps (map KB: the file beside each bundle), for what they cost:`);
console.table(
  functionRows.map(({ function: name, sourceMapKb, initMs, initCpuMs, firstRequestMs, otherSourceMaps: other }) => {
    const sign = deployedWithSourceMaps ? -1 : 1;
    return {
      function: name,
      'map KB': fixed(sourceMapKb),
      'init ms': fixed(other.initMs),
      'init / baseline': fixed(other.ratio, 2),
      'first request ms': fixed(other.firstRequestMs),
      'maps cost: init ms': fixed(sign * (other.initMs - initMs)),
      'init CPU ms': fixed(sign * (other.initCpuMs - initCpuMs)),
      'first request ms ': fixed(sign * (other.firstRequestMs - firstRequestMs)),
    };
  }),
);
console.log(
  `Warm overhead per request, ${warm.iterations} requests each; AWS answered by recorded HTTP responses at the SDK clients' request handler.`,
);
console.log(
  "'webhook' is the request's time less the time inside SDK calls (the targets apply to it); 'with SDK' adds the SDK's work (serialize, sign, retry, parse):",
);
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
    'API Gateway steps': operation.includes('usage plan')
      ? `${trips.apiGateway} ${mark(trips.apiGateway <= targets.createApiGatewaySteps)} (≤ ${targets.createApiGatewaySteps})`
      : trips.apiGateway,
    'all AWS steps (with DynamoDB)': trips.total,
    'AWS calls': trips.calls,
  })),
);
console.log(placesHeading(places));
console.table(placesRows(places));

const resultFile = join(outDir, 'latest.json');
writeFileSync(
  resultFile,
  `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, targets, nodeStart, functions: functionRows, warm, places }, null, 2)}\n`,
);
console.log(`\nWritten to ${resultFile}`);
