/**
 * Runs in its own process (stdout discarded: the functions log and emit metrics as in
 * Lambda). Measures, with every AWS call answered by a recorded HTTP response at the SDK
 * clients' request handler (so the SDK serializes, signs, retries and parses as in Lambda;
 * only the network is left out): the warm overhead of each route, and the number of
 * sequential AWS round trips each operation makes. Writes its figures as JSON to BENCH_OUT.
 */
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { apiGateway } from '#clients/api-gateway';
import { dynamodb } from '#clients/dynamodb';
import { createRequest, lambdaContext, portalUser, proxyEvent, withPlans } from '../test/helpers/portal.ts';
import { quantile } from './cold-init.ts';
import { answerFor, type HttpRequest, onTheWire } from './recorded-aws.ts';

const { handler: create } = await import('../lambda/handlers/create-credentials.ts');
const { handler: update } = await import('../lambda/handlers/update-credentials.ts');
const { handler: revoke } = await import('../lambda/handlers/revoke-credentials.ts');
const { handler: health } = await import('../lambda/handlers/health.ts');

// The Basic-auth secret is read once and cached; a mock is cheap enough for that one read.
mockClient(SecretsManagerClient)
  .on(GetSecretValueCommand)
  .resolves({ SecretString: JSON.stringify([portalUser]) });

type Call = { service: string; started: number; ended: number };

/**
 * Puts a request handler answering recorded responses in place of each client's HTTP
 * handler. With `delayMs`, each answer takes that long, so that calls made at once can
 * be told from calls in sequence.
 */
const answerAws = (options: { delayMs: number; calls: Call[]; conditionFails?: boolean }) => {
  for (const [service, client] of [
    ['apigateway', apiGateway],
    ['dynamodb', dynamodb],
  ] as const) {
    (client.config as { requestHandler: unknown }).requestHandler = {
      handle: async (request: HttpRequest) => {
        const started = performance.now();
        if (options.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
        options.calls.push({ service, started, ended: performance.now() });
        const { status, headers, payload } = onTheWire(service, answerFor(service, request, options.conditionFails ?? false));
        return { response: { statusCode: status, headers, body: Readable.from([Buffer.from(payload)]) } };
      },
    };
  }
};

/**
 * Time spent inside SDK calls (the union of their intervals, so calls made at once count
 * once): subtracted from a request's time, what is left is the webhook's own work.
 */
const sdkClock = { active: 0, since: 0, totalMs: 0 };
for (const client of [apiGateway, dynamodb] as { send: (...args: never[]) => Promise<unknown> }[]) {
  const send = client.send.bind(client);
  client.send = async (...args: never[]) => {
    if (sdkClock.active++ === 0) sdkClock.since = performance.now();
    try {
      return await send(...args);
    } finally {
      if (--sdkClock.active === 0) sdkClock.totalMs += performance.now() - sdkClock.since;
    }
  };
}

let appCounter = 0;
const scenarios: Record<string, () => Promise<APIGatewayProxyResult>> = {
  health: () => health(proxyEvent({ method: 'GET', path: '/v1/health' }), lambdaContext),
  'createCredentials (new)': () => create(proxyEvent({ body: createRequest({ appSlug: `bench-${appCounter++}` }) }), lambdaContext),
  'createCredentials (repeat)': () => create(proxyEvent({ body: createRequest() }), lambdaContext),
  updateCredentials: () =>
    update(
      proxyEvent({
        path: '/v1/updateCredentials',
        body: { ...createRequest({ apis: withPlans('p2') }), credentialType: 'API_KEY', apiKeyId: 'key1' },
      }),
      lambdaContext,
    ),
  revokeCredentials: () =>
    revoke(proxyEvent({ path: '/v1/revokeCredentials', body: { credentialType: 'API_KEY', apiKeyId: 'key1' } }), lambdaContext),
};
const expectedStatus: Record<string, number> = {
  health: 204,
  'createCredentials (new)': 200,
  'createCredentials (repeat)': 200,
  updateCredentials: 204,
  revokeCredentials: 204,
};

const conditionFails = (scenario: string) => scenario === 'createCredentials (repeat)';

/** Per-request time with AWS answering at once: in all, and the webhook's own part (without the SDK's). */
const overhead = async (iterations: number) => {
  const results: Record<string, { p50: number; p99: number; ownP50: number; ownP99: number }> = {};
  for (const [scenario, run] of Object.entries(scenarios)) {
    answerAws({ delayMs: 0, calls: [], conditionFails: conditionFails(scenario) });
    const samples: number[] = [];
    const own: number[] = [];
    for (let index = 0; index < iterations + 500; index++) {
      sdkClock.totalMs = 0;
      const started = performance.now();
      const response = await run();
      const elapsed = performance.now() - started;
      if (response.statusCode !== expectedStatus[scenario]) throw new Error(`${scenario} answered ${response.statusCode}: ${response.body}`);
      if (index >= 500) {
        // the first 500 warm the JIT
        samples.push(elapsed);
        own.push(elapsed - sdkClock.totalMs);
      }
    }
    results[scenario] = { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), ownP50: quantile(own, 0.5), ownP99: quantile(own, 0.99) };
  }
  return results;
};

/** The length of the longest chain of AWS calls where each starts only after the previous ended. */
const sequentialSteps = (calls: { started: number; ended: number }[]) => {
  const ordered = [...calls].sort((a, b) => a.started - b.started);
  const depth: number[] = [];
  for (const [index, call] of ordered.entries()) {
    const predecessors = ordered.slice(0, index).map((other, j) => (other.ended <= call.started ? (depth[j] ?? 0) : 0));
    depth.push(1 + Math.max(0, ...predecessors));
  }
  return Math.max(0, ...depth);
};

const roundTrips = async () => {
  const results: Record<string, { apiGateway: number; total: number; calls: number }> = {};
  const measure = async (label: string, run: () => Promise<APIGatewayProxyResult>, scenario = '') => {
    const calls: Call[] = [];
    answerAws({ delayMs: 5, calls, conditionFails: conditionFails(scenario) });
    await run(); // first call reads the Basic-auth secret; not counted
    calls.length = 0;
    await run();
    results[label] = {
      apiGateway: sequentialSteps(calls.filter((call) => call.service === 'apigateway')),
      total: sequentialSteps(calls),
      calls: calls.length,
    };
  };
  for (const plans of [1, 5, 10]) {
    const planIds = Array.from({ length: plans }, (_, index) => `p${index}`);
    await measure(`createCredentials, ${plans} usage plan(s)`, () =>
      create(proxyEvent({ body: createRequest({ appSlug: `trips-${appCounter++}`, apis: withPlans(...planIds) }) }), lambdaContext),
    );
  }
  await measure('createCredentials (repeat)', scenarios['createCredentials (repeat)']!, 'createCredentials (repeat)');
  await measure('updateCredentials', scenarios.updateCredentials!);
  await measure('revokeCredentials', scenarios.revokeCredentials!);
  return results;
};

const iterations = Number(process.env.BENCH_ITERATIONS ?? 3000);
writeFileSync(process.env.BENCH_OUT as string, JSON.stringify({ overhead: await overhead(iterations), roundTrips: await roundTrips(), iterations }));
process.exit(0);
