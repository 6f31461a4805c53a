/**
 * Runs in its own process (stdout discarded: the functions log and emit metrics as in
 * Lambda). Measures, with every AWS call answered in-process by aws-sdk-client-mock:
 * the warm overhead of each route, and the number of sequential AWS round trips each
 * operation makes. Writes its figures as JSON to BENCH_OUT.
 */
import { writeFileSync } from 'node:fs';
import { CreateApiKeyCommand, CreateUsagePlanKeyCommand, DeleteApiKeyCommand, GetApiKeyCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { aws } from '../test/helpers/aws-mocks.ts';
import { createRequest, lambdaContext, portalUser, proxyEvent, withPlans } from '../test/helpers/portal.ts';
import { quantile } from './cold-init.ts';

const { handler: create } = await import('../lambda/handlers/create-credentials.ts');
const { handler: update } = await import('../lambda/handlers/update-credentials.ts');
const { handler: revoke } = await import('../lambda/handlers/revoke-credentials.ts');
const { handler: health } = await import('../lambda/handlers/health.ts');

const owned = { appKey: '590d83b5c05f', state: 'ACTIVE', credentialType: 'API_KEY', credentialId: 'key1', usagePlanIds: ['p1'] };

/** Answers every call the routes make; `delayMs` > 0 makes each call take time so overlaps can be seen. */
const answerAws = (delayMs: number, calls: { service: string; started: number; ended: number }[]) => {
  const respond =
    <T>(service: string, value: () => T) =>
    async () => {
      const started = performance.now();
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      calls.push({ service, started, ended: performance.now() });
      return value();
    };
  for (const mock of Object.values(aws)) mock.reset();
  aws.secrets.on(GetSecretValueCommand).callsFake(respond('secretsmanager', () => ({ SecretString: JSON.stringify([portalUser]) })));
  aws.dynamodb.on(PutCommand).callsFake(respond('dynamodb', () => ({})));
  aws.dynamodb.on(UpdateCommand).callsFake(respond('dynamodb', () => ({})));
  aws.dynamodb.on(GetCommand).callsFake(respond('dynamodb', () => ({ Item: owned })));
  aws.dynamodb.on(QueryCommand).callsFake(respond('dynamodb', () => ({ Items: [owned] })));
  aws.apiGateway.on(CreateApiKeyCommand).callsFake(respond('apigateway', () => ({ id: 'key1', value: 'v'.repeat(40) })));
  aws.apiGateway.on(GetApiKeyCommand).callsFake(respond('apigateway', () => ({ id: 'key1', value: 'v'.repeat(40) })));
  aws.apiGateway.on(CreateUsagePlanKeyCommand).callsFake(respond('apigateway', () => ({})));
  aws.apiGateway.on(GetUsagePlansCommand).callsFake(respond('apigateway', () => ({ items: [{ id: 'p1' }] })));
  aws.apiGateway.on(DeleteApiKeyCommand).callsFake(respond('apigateway', () => ({})));
};

let appCounter = 0;
const scenarios: Record<string, () => Promise<APIGatewayProxyResult>> = {
  health: () => health(proxyEvent({ method: 'GET', path: '/v1/health' }), lambdaContext),
  'createCredentials (new)': () => create(proxyEvent({ body: createRequest({ appSlug: `bench-${appCounter++}` }) }), lambdaContext),
  'createCredentials (repeat)': () => create(proxyEvent({ body: createRequest() }), lambdaContext),
  updateCredentials: () =>
    update(proxyEvent({ path: '/v1/updateCredentials', body: { ...createRequest({ apis: withPlans('p2') }), credentialType: 'API_KEY', apiKeyId: 'key1' } }), lambdaContext),
  revokeCredentials: () => revoke(proxyEvent({ path: '/v1/revokeCredentials', body: { credentialType: 'API_KEY', apiKeyId: 'key1' } }), lambdaContext),
};
const expectedStatus: Record<string, number> = { health: 204, 'createCredentials (new)': 200, 'createCredentials (repeat)': 200, updateCredentials: 204, revokeCredentials: 204 };

const prepare = (scenario: string) => {
  if (scenario === 'createCredentials (repeat)') {
    aws.dynamodb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
  }
};

/** Per-request time, with AWS answering at once: what the webhook itself costs. */
const overhead = async (iterations: number) => {
  const results: Record<string, { p50: number; p99: number }> = {};
  for (const [scenario, run] of Object.entries(scenarios)) {
    answerAws(0, []);
    prepare(scenario);
    const samples: number[] = [];
    for (let index = 0; index < iterations + 500; index++) {
      const started = process.hrtime.bigint();
      const response = await run();
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (response.statusCode !== expectedStatus[scenario]) throw new Error(`${scenario} answered ${response.statusCode}: ${response.body}`);
      if (index >= 500) samples.push(elapsed); // the first 500 warm the JIT
    }
    results[scenario] = { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
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
    const calls: { service: string; started: number; ended: number }[] = [];
    answerAws(5, calls);
    prepare(scenario);
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
    await measure(`createCredentials, ${plans} usage plan(s)`, () => create(proxyEvent({ body: createRequest({ appSlug: `trips-${appCounter++}`, apis: withPlans(...planIds) }) }), lambdaContext));
  }
  await measure('createCredentials (repeat)', scenarios['createCredentials (repeat)']!, 'createCredentials (repeat)');
  await measure('updateCredentials', scenarios.updateCredentials!);
  await measure('revokeCredentials', scenarios.revokeCredentials!);
  return results;
};

const iterations = Number(process.env.BENCH_ITERATIONS ?? 3000);
writeFileSync(process.env.BENCH_OUT as string, JSON.stringify({ overhead: await overhead(iterations), roundTrips: await roundTrips(), iterations }));
process.exit(0);
