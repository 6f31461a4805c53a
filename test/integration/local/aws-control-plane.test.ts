/**
 * Drives the local AWS control-plane stand-in with the real SDK clients, so every
 * assertion also proves the wire format: if a path, member name, status code or
 * error shape were wrong, the SDK would fail to (de)serialize it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  APIGatewayClient,
  BadRequestException,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetUsagePlanCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
  LimitExceededException,
  NotFoundException,
  ServiceUnavailableException,
  TooManyRequestsException,
  UpdateApiKeyCommand,
  paginateGetApiKeys,
  type ApiKey,
} from '@aws-sdk/client-api-gateway';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startAwsControlPlane, type AwsControlPlane, type ControlPlaneSeed } from '../../../local/stand-ins/aws-control-plane.ts';

const seed = JSON.parse(readFileSync(new URL('../../../local/seed.json', import.meta.url), 'utf8')) as ControlPlaneSeed;

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let cp: AwsControlPlane;
/** Default retry settings, as production code would use. */
let apiGateway: APIGatewayClient;
/** One attempt only, so an error reaches the test instead of being retried. */
let apiGatewayOnce: APIGatewayClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  cp = await startAwsControlPlane({ seed });
  apiGateway = new APIGatewayClient({ endpoint: cp.url, region: 'us-east-1', credentials });
  apiGatewayOnce = new APIGatewayClient({ endpoint: cp.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  secrets = new SecretsManagerClient({ endpoint: cp.url, region: 'us-east-1', credentials, maxAttempts: 1 });
});

afterAll(async () => {
  apiGateway.destroy();
  apiGatewayOnce.destroy();
  secrets.destroy();
  await cp.close();
});

beforeEach(() => cp.reset());

const createKey = (name: string, extra: { customerId?: string; value?: string } = {}) =>
  apiGateway.send(new CreateApiKeyCommand({ name, enabled: true, ...extra }));

const linkKey = (usagePlanId: string, keyId: string) =>
  apiGatewayOnce.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));

describe('seed file', () => {
  it('holds the REST API and usage plan ids of the portal contract example', async () => {
    // Act
    const api = await apiGateway.send(new GetRestApiCommand({ restApiId: '5aba4csvd4' }));
    const plan = await apiGateway.send(new GetUsagePlanCommand({ usagePlanId: '1el57v' }));
    const apis = await apiGateway.send(new GetRestApisCommand({}));
    const plans = await apiGateway.send(new GetUsagePlansCommand({}));

    // Assess
    expect(api.name).toBe('Orders API');
    expect(plan).toMatchObject({ name: 'Bronze', apiStages: [{ apiId: '5aba4csvd4', stage: 'prod' }] });
    expect(apis.items).toHaveLength(3);
    expect(plans.items?.map((p) => p.id).sort()).toEqual(['1el57v', '2fm68w', '3gn79x', '4ho80y', '5ip91z']);
    expect(seed.secrets).toBeUndefined();
  });

  it('gives every plan the API stages it serves: the example of docs/portal-administrators.md moves a key between two plans of one stage', async () => {
    // Act
    const stagesOf = async (usagePlanId: string) => (await apiGateway.send(new GetUsagePlanCommand({ usagePlanId }))).apiStages;
    const listed = await apiGateway.send(new GetUsagePlansCommand({}));

    // Assess
    expect(await stagesOf('1el57v')).toEqual([{ apiId: '5aba4csvd4', stage: 'prod' }]);
    expect(await stagesOf('2fm68w')).toEqual([{ apiId: '5aba4csvd4', stage: 'prod' }]);
    expect(await stagesOf('4ho80y')).toEqual([{ apiId: 'q8w2e4r6t1', stage: 'prod' }]);
    expect(await stagesOf('5ip91z')).toEqual([{ apiId: '5aba4csvd4', stage: 'sandbox' }]);
    expect(listed.items?.find((p) => p.id === '4ho80y')?.apiStages).toEqual([{ apiId: 'q8w2e4r6t1', stage: 'prod' }]);
  });

  it('reports an unknown REST API as NotFoundException', async () => {
    // Act
    const attempt = apiGatewayOnce.send(new GetRestApiCommand({ restApiId: 'nope000000' }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NotFoundException);
  });
});

describe('API keys', () => {
  it('creates a key with a 10-char id and 40-char value, and returns the value only when includeValue is true', async () => {
    // Act
    const created = await apiGateway.send(
      new CreateApiKeyCommand({ name: 'acme', description: 'Acme', enabled: true, customerId: 'c-1', tags: { app: 'a1' } }),
    );
    const withoutValue = await apiGateway.send(new GetApiKeyCommand({ apiKey: created.id }));
    const withValue = await apiGateway.send(new GetApiKeyCommand({ apiKey: created.id, includeValue: true }));

    // Assess
    expect(created.id).toMatch(/^[a-z0-9]{10}$/);
    expect(created.value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(created.createdDate).toBeInstanceOf(Date);
    expect(withoutValue.value).toBeUndefined();
    expect(withValue).toMatchObject({ value: created.value, name: 'acme', customerId: 'c-1', enabled: true, tags: { app: 'a1' } });
    expect(cp.apiKeys()).toEqual([
      { id: created.id, name: 'acme', value: created.value, enabled: true, customerId: 'c-1', description: 'Acme', tags: { app: 'a1' } },
    ]);
  });

  it('refuses a key name over 1,024 characters with BadRequestException, as the service does', async () => {
    // Act
    const refused = await apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'n'.repeat(1_025) })).catch((e: unknown) => e);
    const longest = await apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'n'.repeat(1_024) }));

    // Assess
    expect(refused).toBeInstanceOf(BadRequestException);
    expect(longest.name).toHaveLength(1_024);
  });

  it("refuses tags outside AWS's rules with BadRequestException, and accepts letters, spaces, digits and _ . : / = + - @", async () => {
    // Act
    const refusals = await Promise.all(
      [
        { developer: "o'neil@example.com" },
        { developer: 'tab\there' },
        { 'aws:reserved': 'x' },
        { long: 'v'.repeat(257) },
        Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'x'])),
      ].map((tags) => apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'tagged', tags })).catch((e: unknown) => e)),
    );
    const accepted = await apiGatewayOnce.send(
      new CreateApiKeyCommand({ name: 'tagged', tags: { developer: 'José Dev+1_a.b:c/d=e-f@example.com', empty: '' } }),
    );

    // Assess
    for (const refused of refusals) expect(refused).toBeInstanceOf(BadRequestException);
    expect(accepted.tags).toEqual({ developer: 'José Dev+1_a.b:c/d=e-f@example.com', empty: '' });
  });

  it('creates keys disabled by default, as the service does', async () => {
    // Act
    const created = await apiGateway.send(new CreateApiKeyCommand({ name: 'quiet' }));

    // Assess
    expect(created.enabled).toBe(false);
  });

  it('rejects a given value that another key already has with ConflictException', async () => {
    // Prepare
    const value = 'v'.repeat(30);
    await createKey('first', { value });

    // Act
    const attempt = apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'second', value }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConflictException);
  });

  it('lists keys through the SDK with name as a prefix match and customerId as an exact match', async () => {
    // Prepare
    await createKey('acme-prod', { customerId: 'acme' });
    await createKey('acme-test', { customerId: 'acme-labs' });
    await createKey('globex', { customerId: 'acme' });

    // Act
    const all = await apiGateway.send(new GetApiKeysCommand({}));
    const byPrefix = await apiGateway.send(new GetApiKeysCommand({ nameQuery: 'acme' }));
    const byCustomer = await apiGateway.send(new GetApiKeysCommand({ customerId: 'acme', includeValues: true }));

    // Assess
    expect(all.items).toHaveLength(3);
    expect(all.items?.every((k) => k.value === undefined)).toBe(true);
    expect(names(byPrefix.items).sort()).toEqual(['acme-prod', 'acme-test']);
    expect(names(byCustomer.items).sort()).toEqual(['acme-prod', 'globex']);
    expect(byCustomer.items?.every((k) => k.value?.length === 40)).toBe(true);
  });

  it('pages with limit and an opaque position, serving every key exactly once', async () => {
    // Prepare
    for (let i = 0; i < 7; i++) await createKey(`key-${i}`);

    // Act
    const first = await apiGateway.send(new GetApiKeysCommand({ limit: 3 }));
    const second = await apiGateway.send(new GetApiKeysCommand({ limit: 3, position: first.position }));
    const third = await apiGateway.send(new GetApiKeysCommand({ limit: 3, position: second.position }));
    const viaPaginator: ApiKey[] = [];
    for await (const page of paginateGetApiKeys({ client: apiGateway, pageSize: 2 }, {})) viaPaginator.push(...(page.items ?? []));

    // Assess
    expect([first.items?.length, second.items?.length, third.items?.length]).toEqual([3, 3, 1]);
    expect(first.position).toEqual(expect.any(String));
    expect(third.position).toBeUndefined();
    const served = [...(first.items ?? []), ...(second.items ?? []), ...(third.items ?? [])].map((k) => k.id);
    expect(new Set(served).size).toBe(7);
    expect(viaPaginator.map((k) => k.id)).toEqual(served);
  });

  it('rejects a limit above 500 with BadRequestException', async () => {
    // Act
    const attempt = apiGatewayOnce.send(new GetApiKeysCommand({ limit: 501 }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BadRequestException);
  });

  it('applies replace patch operations on enabled, name and description', async () => {
    // Prepare
    const key = await createKey('before');

    // Act
    const updated = await apiGateway.send(
      new UpdateApiKeyCommand({
        apiKey: key.id,
        patchOperations: [
          { op: 'replace', path: '/enabled', value: 'false' },
          { op: 'replace', path: '/name', value: 'after' },
          { op: 'replace', path: '/description', value: 'renamed' },
        ],
      }),
    );

    // Assess
    expect(updated).toMatchObject({ id: key.id, enabled: false, name: 'after', description: 'renamed' });
    expect(cp.apiKeys()[0]).toMatchObject({ enabled: false, name: 'after', description: 'renamed' });
  });

  it('deletes a key and detaches it from every usage plan; a second delete is NotFoundException', async () => {
    // Prepare
    const key = await createKey('doomed');
    await linkKey('1el57v', key.id!);
    await linkKey('4ho80y', key.id!);

    // Act
    await apiGateway.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    const again = apiGatewayOnce.send(new DeleteApiKeyCommand({ apiKey: key.id }));

    // Assess
    await expect(again).rejects.toBeInstanceOf(NotFoundException);
    expect(cp.apiKeys()).toEqual([]);
    expect(cp.usagePlanKeyIds('1el57v')).toEqual([]);
    expect(cp.usagePlanKeyIds('4ho80y')).toEqual([]);
  });
});

describe('usage plan keys', () => {
  it('links a key to a plan and lets GetUsagePlans filter by keyId', async () => {
    // Prepare
    const key = await createKey('linked');

    // Act
    const link = await linkKey('2fm68w', key.id!);
    const plans = await apiGateway.send(new GetUsagePlansCommand({ keyId: key.id }));
    const planKeys = await apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId: '2fm68w' }));

    // Assess
    expect(link).toMatchObject({ id: key.id, type: 'API_KEY', name: 'linked', value: key.value });
    expect(link.$metadata.httpStatusCode).toBe(201);
    expect(plans.items?.map((p) => p.id)).toEqual(['2fm68w']);
    expect(planKeys.items?.map((k) => k.id)).toEqual([key.id]);
    expect(cp.usagePlanKeyIds('2fm68w')).toEqual([key.id]);
  });

  it('reports a duplicate link as ConflictException and an unknown plan or key as NotFoundException', async () => {
    // Prepare
    const key = await createKey('once');
    await linkKey('1el57v', key.id!);

    // Act
    const duplicate = linkKey('1el57v', key.id!);
    const unknownPlan = linkKey('zzzzzz', key.id!);
    const unknownKey = linkKey('1el57v', 'nosuchkey0');

    // Assess
    await expect(duplicate).rejects.toBeInstanceOf(ConflictException);
    await expect(unknownPlan).rejects.toBeInstanceOf(NotFoundException);
    await expect(unknownKey).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refuses a key already in another plan of the same API stage with ConflictException, as the service does', async () => {
    // Prepare: 1el57v and 2fm68w both serve 5aba4csvd4/prod; 5ip91z serves its sandbox stage, 4ho80y another API.
    const key = await createKey('one-plan-per-stage');
    await linkKey('1el57v', key.id!);

    // Act
    const sameStage = await linkKey('2fm68w', key.id!).catch((error: Error) => error);
    const otherStage = await linkKey('5ip91z', key.id!);
    const otherApi = await linkKey('4ho80y', key.id!);

    // Assess
    expect(sameStage).toBeInstanceOf(ConflictException);
    expect((sameStage as Error).message).toMatch(/5aba4csvd4:prod/);
    expect([otherStage.id, otherApi.id]).toEqual([key.id, key.id]);
    expect(cp.usagePlanKeyIds('2fm68w')).toEqual([]);
  });

  it('lets a key move between two plans of one stage once it has left the first', async () => {
    // Prepare
    const key = await createKey('mover');
    await linkKey('1el57v', key.id!);

    // Act
    await apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId: '1el57v', keyId: key.id }));
    const moved = await linkKey('2fm68w', key.id!);

    // Assess
    expect(moved.id).toBe(key.id);
    expect(cp.usagePlanKeyIds('2fm68w')).toEqual([key.id]);
  });

  it('unlinks a key, and reports NotFoundException for a key that is not linked', async () => {
    // Prepare
    const key = await createKey('unlink-me');
    await linkKey('3gn79x', key.id!);

    // Act
    await apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId: '3gn79x', keyId: key.id }));
    const again = apiGatewayOnce.send(new DeleteUsagePlanKeyCommand({ usagePlanId: '3gn79x', keyId: key.id }));

    // Assess
    await expect(again).rejects.toBeInstanceOf(NotFoundException);
    expect(cp.usagePlanKeyIds('3gn79x')).toEqual([]);
  });

  it('filters plan keys by name prefix and pages them', async () => {
    // Prepare
    for (const name of ['team-a', 'team-b', 'team-c', 'other']) await linkKey('1el57v', (await createKey(name)).id!);

    // Act
    const first = await apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId: '1el57v', nameQuery: 'team-', limit: 2 }));
    const second = await apiGateway.send(
      new GetUsagePlanKeysCommand({ usagePlanId: '1el57v', nameQuery: 'team-', limit: 2, position: first.position }),
    );

    // Assess
    expect(names([...(first.items ?? []), ...(second.items ?? [])]).sort()).toEqual(['team-a', 'team-b', 'team-c']);
    expect(second.position).toBeUndefined();
  });

  it('refuses to put a key in more than 10 plans with LimitExceededException', async () => {
    // Prepare
    const manyPlans = Array.from({ length: 11 }, (_, i) => ({
      id: `plan${i}`,
      name: `Plan ${i}`,
      apiStages: [{ apiId: '5aba4csvd4', stage: `stage${i}` }],
    }));
    cp.reset({ restApis: seed.restApis, usagePlans: manyPlans });
    const key = await createKey('popular');
    for (const plan of manyPlans.slice(0, 10)) await linkKey(plan.id, key.id!);

    // Act
    const eleventh = linkKey('plan10', key.id!);

    // Assess
    await expect(eleventh).rejects.toBeInstanceOf(LimitExceededException);
    expect(cp.usagePlanKeyIds('plan10')).toEqual([]);
  });
});

describe('throttling', () => {
  it('surfaces as TooManyRequestsException with a Retry-After hint when the SDK may not retry', async () => {
    // Prepare
    cp.setThrottle('CreateApiKey', { ratePerSecond: 1, burst: 1 });
    await createKey('allowed');

    // Act
    const attempt = apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'throttled' }));

    // Assess
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsException);
    expect((error as TooManyRequestsException).retryAfterSeconds).toBe('1');
    expect(cp.calls().CreateApiKey).toBe(2);
    expect(cp.apiKeys()).toHaveLength(1);
  });

  it('is ridden out by the default SDK retries once the bucket refills', async () => {
    // Prepare
    cp.setThrottle('CreateApiKey', { ratePerSecond: 20, burst: 1 });
    await createKey('first');

    // Act
    const second = await createKey('second');

    // Assess
    expect(second.$metadata.attempts).toBe(2);
    expect(cp.calls().CreateApiKey).toBe(3);
    expect(names(cp.apiKeys()).sort()).toEqual(['first', 'second']);
  });
});

describe('fault injection', () => {
  it('fails exactly `times` calls with the injected AWS error', async () => {
    // Prepare
    cp.injectFault('GetRestApis', { kind: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'down' }, 2);

    // Act
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await apiGatewayOnce.send(new GetRestApisCommand({})).catch((e: unknown) => e));

    // Assess
    expect(outcomes[0]).toBeInstanceOf(ServiceUnavailableException);
    expect(outcomes[1]).toBeInstanceOf(ServiceUnavailableException);
    expect((outcomes[1] as Error).message).toBe('down');
    expect(outcomes[2]).toMatchObject({ items: expect.any(Array) });
    expect(cp.calls().GetRestApis).toBe(3);
  });

  it('drops the connection exactly `times` times, which default SDK retries ride out', async () => {
    // Prepare
    cp.injectFault('GetUsagePlans', { kind: 'reset' });
    cp.injectFault('GetRestApis', { kind: 'reset' }, 2);

    // Act
    const dropped = await apiGatewayOnce.send(new GetUsagePlansCommand({})).catch((e: unknown) => e);
    const afterDrop = await apiGatewayOnce.send(new GetUsagePlansCommand({}));
    const retried = await apiGateway.send(new GetRestApisCommand({}));

    // Assess
    expect(dropped).toBeInstanceOf(Error);
    expect(dropped).not.toHaveProperty('$metadata.httpStatusCode');
    expect(afterDrop.items).toHaveLength(seed.usagePlans.length);
    expect(retried.$metadata.attempts).toBe(3);
    expect(cp.calls()).toMatchObject({ GetUsagePlans: 2, GetRestApis: 3 });
  });

  it('delays exactly `times` calls before answering normally', async () => {
    // Prepare
    cp.injectFault('GetRestApi', { kind: 'delay', delayMs: 250 });

    // Act
    const delayed = await timed(() => apiGatewayOnce.send(new GetRestApiCommand({ restApiId: '5aba4csvd4' })));
    const prompt = await timed(() => apiGatewayOnce.send(new GetRestApiCommand({ restApiId: '5aba4csvd4' })));

    // Assess
    expect(delayed.result.name).toBe('Orders API');
    expect(delayed.ms).toBeGreaterThanOrEqual(240);
    expect(prompt.ms).toBeLessThan(200);
  });

  it('carries out a call whose answer it then drops, or holds back', async () => {
    // Prepare
    cp.injectFault('CreateApiKey', { kind: 'drop-answer' });
    cp.injectFault('CreateApiKey', { kind: 'hang-answer', delayMs: 250 });

    // Act
    const dropped = await apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'answer-dropped' })).catch((e: unknown) => e);
    const held = await timed(() => apiGatewayOnce.send(new CreateApiKeyCommand({ name: 'answer-held' })));

    // Assess
    expect(dropped).not.toHaveProperty('$metadata.httpStatusCode');
    expect(held.ms).toBeGreaterThanOrEqual(240);
    expect(
      cp
        .apiKeys()
        .map((key) => key.name)
        .sort(),
    ).toEqual(['answer-dropped', 'answer-held']);
  });

  it('clearFaults drops every pending fault', async () => {
    // Prepare
    cp.injectFault('GetRestApis', { kind: 'reset' }, 5);

    // Act
    cp.clearFaults();
    const result = await apiGatewayOnce.send(new GetRestApisCommand({}));

    // Assess
    expect(result.items).toHaveLength(3);
  });
});

describe('raw HTTP edge cases', () => {
  it('answers an unknown route with 404 and a message naming the route', async () => {
    // Act
    const response = await fetch(`${cp.url}/domainnames`);

    // Assess
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(((await response.json()) as { message: string }).message).toContain('GET /domainnames');
  });

  it('answers a malformed JSON body with 400 BadRequestException', async () => {
    // Act
    const response = await fetch(`${cp.url}/apikeys`, { method: 'POST', body: '{"name":', headers: { 'content-type': 'application/json' } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(cp.calls().CreateApiKey).toBe(1);
  });

  it('is reachable through AWS_ENDPOINT_URL_API_GATEWAY without an explicit endpoint', async () => {
    // Prepare
    const previous = process.env.AWS_ENDPOINT_URL_API_GATEWAY;
    process.env.AWS_ENDPOINT_URL_API_GATEWAY = cp.url;
    const client = new APIGatewayClient({ region: 'us-east-1', credentials });

    try {
      // Act
      const api = await client.send(new GetRestApiCommand({ restApiId: '5aba4csvd4' }));

      // Assess
      expect(api.name).toBe('Orders API');
    } finally {
      client.destroy();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_API_GATEWAY;
      else process.env.AWS_ENDPOINT_URL_API_GATEWAY = previous;
    }
  });
});

describe('Secrets Manager', () => {
  it('creates, reads by name and by ARN, rotates with PutSecretValue and describes a secret', async () => {
    // Prepare
    const created = await secrets.send(new CreateSecretCommand({ Name: 'portal/basic-auth', SecretString: '{"user":"a"}' }));

    // Act
    const byName = await secrets.send(new GetSecretValueCommand({ SecretId: 'portal/basic-auth' }));
    const put = await secrets.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: '{"user":"b"}' }));
    const byArn = await secrets.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    const previous = await secrets.send(new GetSecretValueCommand({ SecretId: 'portal/basic-auth', VersionStage: 'AWSPREVIOUS' }));
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'portal/basic-auth' }));

    // Assess
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:portal\/basic-auth-[A-Za-z0-9]{6}$/);
    expect(byName).toMatchObject({
      ARN: created.ARN,
      Name: 'portal/basic-auth',
      VersionId: created.VersionId,
      SecretString: '{"user":"a"}',
      VersionStages: ['AWSCURRENT'],
    });
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect(byArn).toMatchObject({ VersionId: put.VersionId, SecretString: '{"user":"b"}' });
    expect(previous).toMatchObject({ VersionId: created.VersionId, VersionStages: ['AWSPREVIOUS'] });
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'] });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(cp.secret('portal/basic-auth')).toBe('{"user":"b"}');
  });

  it('reports an unknown secret as ResourceNotFoundException and a duplicate name as ResourceExistsException', async () => {
    // Prepare
    await secrets.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'x' }));

    // Act
    const missing = await secrets.send(new GetSecretValueCommand({ SecretId: 'absent' })).catch((e: unknown) => e);
    const duplicate = secrets.send(new CreateSecretCommand({ Name: 'taken', SecretString: 'y' }));

    // Assess
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).message).toBe("Secrets Manager can't find the specified secret.");
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(400);
    await expect(duplicate).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('seeds secrets from the seed given to reset', async () => {
    // Act
    cp.reset({ ...seed, secrets: [{ name: 'seeded', secretString: 's3cret' }] });
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: 'seeded' }));

    // Assess
    expect(value.SecretString).toBe('s3cret');
    expect(cp.secret('seeded')).toBe('s3cret');
  });

  it('throttles as ThrottlingException, the name the SDK treats as throttling', async () => {
    // Prepare
    cp.setThrottle('DescribeSecret', { ratePerSecond: 1, burst: 0 });

    // Act
    const error = await secrets.send(new DescribeSecretCommand({ SecretId: 'any' })).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });
});

function names(items: { name?: string }[] | undefined): (string | undefined)[] {
  return (items ?? []).map((item) => item.name);
}

async function timed<T>(action: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await action();
  return { result, ms: performance.now() - started };
}
