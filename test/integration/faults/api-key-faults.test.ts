import { APIGatewayClient, CreateApiKeyCommand } from '@aws-sdk/client-api-gateway';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { dynamodb } from '#clients/dynamodb';
import { resourceName } from '#provisioning/provisioner';
import { awsError, regionFull } from '../../helpers/aws-errors.ts';
import { leaseRunsOut } from '../../helpers/lease.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { loseNextAnswer } from '../../helpers/lost-answers.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

// The functions' own lease, run out by hand where a test shows recovery after a failed call; a short wait.
const { webhook, registry, post } = await startWebhookForTests({ environment: { CLAIM_WAIT_SECONDS: '0.2' } });
const { controlPlane } = webhook;

/** More failures than the SDK has attempts, so the fault outlives its retries. */
const persistent = 10;
const serverError = { kind: 'error', status: 500, errorType: 'InternalFailure' } as const;
const badRequest = { kind: 'error', status: 400, errorType: 'BadRequestException' } as const;

const keysOf = (appSlug: string) => controlPlane.apiKeys().filter((key) => key.name === resourceName({ appKey: appSlug }));
const create = (appSlug: string, ...plans: string[]) =>
  post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans(...(plans.length ? plans : ['1el57v'])) }));

/** How many calls of `operation` the control plane received while `act` ran: other tests' calls do not count. */
const callsDuring = async <T>(operation: string, act: () => Promise<T>) => {
  const before = controlPlane.calls()[operation] ?? 0;
  const result = await act();
  return { result, calls: (controlPlane.calls()[operation] ?? 0) - before };
};

/** Fails the registry's next write of the given kind (that `matches`, if given), as a DynamoDB outage would. */
const failNextRegistryWrite = (
  command: 'UpdateItemCommand' | 'PutItemCommand' | 'DeleteItemCommand',
  matches: (input: Record<string, unknown>) => boolean = () => true,
) => {
  let armed = true;
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      if (armed && context.commandName === command && matches(args.input as Record<string, unknown>)) {
        armed = false;
        throw awsError('InternalServerError', 500);
      }
      return next(args);
    },
    { step: 'initialize', name: 'failNextRegistryWrite', override: true },
  );
};

/** Until the test ends, the registry's next write of the given kind is carried out, but its answer is lost as in a time-out: the SDK retries it. */
const loseNextRegistryAnswer = (command: 'UpdateItemCommand') => onTestFinished(loseNextAnswer(dynamodb, command).remove);

/** After any failure: AWS and the registry agree, and the app holds at most one key. */
const expectConsistent = async (appSlug: string) => {
  const keys = keysOf(appSlug);
  const record = await registry.get(appSlug);
  expect(keys.length).toBeLessThanOrEqual(1);
  if (record?.state === 'ACTIVE') expect(keys.map((key) => key.id)).toEqual([record.credentialId]);
  if (!record || record.state === 'REVOKED') expect(keys).toHaveLength(0);
};

describe('faults during createCredentials', () => {
  afterEach(() => {
    controlPlane.clearFaults();
    dynamodb.middlewareStack.remove('failNextRegistryWrite');
  });

  it('CreateApiKey failing with 5xx after the claim: 502, the claim kept (the key may exist), and the retry after its lease completes', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', serverError, persistent);

    // Act
    const failed = await create('fault-create-key');
    controlPlane.clearFaults();
    const tooSoon = await create('fault-create-key');
    await leaseRunsOut('fault-create-key');
    const retried = await create('fault-create-key');

    // Assess
    expect(failed.status).toBe(502);
    expect(failed.json.message).toMatch(/could not be undone yet; retry/);
    expect(tooSoon.status).toBe(409);
    expect(retried.status).toBe(200);
    expect(keysOf('fault-create-key')).toHaveLength(1);
    await expectConsistent('fault-create-key');
  });

  it('CreateApiKey refused because the Region holds its 10,000 keys: 503 QUOTA_EXCEEDED at once, not retried as throttling, nothing left', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', regionFull, persistent);

    // Act
    const { result: refused, calls } = await callsDuring('CreateApiKey', () => create('fault-region-full'));
    controlPlane.clearFaults();

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/^API keys in account 000000000000, Region us-east-1: AWS refused a new key/),
    });
    expect(calls).toBe(1);
    expect(keysOf('fault-region-full')).toHaveLength(0);
    expect(await registry.get('fault-region-full')).toBeUndefined();
  });

  it('CreateApiKey refused with 4xx: 502, nothing made, the claim released, and the retry completes at once', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', badRequest, 1);

    // Act
    const failed = await create('fault-refused-key');
    const retried = await create('fault-refused-key');

    // Assess
    expect(failed.status).toBe(502);
    expect(retried.status).toBe(200);
    expect(keysOf('fault-refused-key')).toHaveLength(1);
    await expectConsistent('fault-refused-key');
  });

  it('a link failing after the key: the key is deleted, and the retry completes', async () => {
    // Prepare: one of the two concurrent links fails.
    controlPlane.injectFault('CreateUsagePlanKey', badRequest, 1);

    // Act
    const failed = await create('fault-link', '1el57v', '5ip91z');
    const afterFailure = keysOf('fault-link').length;
    const retried = await create('fault-link', '1el57v', '5ip91z');

    // Assess
    expect(failed.status).toBe(502);
    expect(afterFailure).toBe(0);
    expect(retried.status).toBe(200);
    expect(controlPlane.usagePlanKeyIds('5ip91z')).toContain(retried.json.apiKeyId);
    await expectConsistent('fault-link');
  });

  it('the registry failing after the links: the key is deleted, and the retry completes', async () => {
    // Prepare
    failNextRegistryWrite('UpdateItemCommand');

    // Act
    const failed = await create('fault-activate');
    const afterFailure = keysOf('fault-activate').length;
    const retried = await create('fault-activate');

    // Assess
    expect(failed.status).toBe(502);
    expect(afterFailure).toBe(0);
    expect(retried.status).toBe(200);
    await expectConsistent('fault-activate');
  });

  it("the activation written but its answer lost: the SDK's retry finds the claim already turned, and the key is kept, answered 200", async () => {
    // Prepare
    loseNextRegistryAnswer('UpdateItemCommand');

    // Act
    const response = await create('fault-activate-answer');

    // Assess
    expect(response.status).toBe(200);
    expect(keysOf('fault-activate-answer').map((key) => key.id)).toEqual([response.json.apiKeyId]);
    await expectConsistent('fault-activate-answer');
  });

  it('the rollback failing too: the claim is kept, and the call after its lease cleans up and completes', async () => {
    // Prepare
    controlPlane.injectFault('CreateUsagePlanKey', badRequest, 1);
    controlPlane.injectFault('DeleteApiKey', badRequest, persistent); // not retried: the lease is still running below

    // Act
    const failed = await create('fault-rollback');
    const leftover = keysOf('fault-rollback');
    controlPlane.clearFaults();
    const tooSoon = await create('fault-rollback');
    await leaseRunsOut('fault-rollback');
    const afterLease = await create('fault-rollback');

    // Assess
    expect(failed.status).toBe(502);
    expect(failed.json.message).toMatch(/retry/i);
    expect(leftover).toHaveLength(1);
    expect(tooSoon.status).toBe(409);
    expect(afterLease.status).toBe(200);
    expect(keysOf('fault-rollback').map((key) => key.id)).toEqual([afterLease.json.apiKeyId]);
    await expectConsistent('fault-rollback');
  });

  it('a crashed invocation: its expired claim and orphan key are cleaned up by the next call', async () => {
    // Prepare: what a Lambda killed between CreateApiKey and the links leaves behind.
    const now = Date.now();
    await registry.claim(
      {
        appKey: 'crashed',
        appName: 'a',
        developer: 'd@example.com',
        apiIds: [],
        usagePlanIds: [],
        scopes: [],
        credentialType: 'API_KEY',
        state: 'PENDING',
        claimToken: 'dead',
        leaseExpiresAt: now - 1,
        createdAt: '',
        updatedAt: '',
      },
      now,
    );
    await new APIGatewayClient({ endpoint: controlPlane.url }).send(
      new CreateApiKeyCommand({
        name: 'portal-crashed',
        enabled: true,
        tags: { 'managed-by': 'portal-credentials-webhook', 'portal-app-key': 'crashed' },
      }),
    );

    // Act
    const response = await create('crashed');

    // Assess
    expect(response.status).toBe(200);
    expect(keysOf('crashed').map((key) => key.id)).toEqual([response.json.apiKeyId]);
    await expectConsistent('crashed');
  });

  it('throttling that outlives the retries: 429 with Retry-After, and the retry completes', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 429, errorType: 'TooManyRequestsException' }, persistent);

    // Act
    const throttled = await create('fault-throttle');
    controlPlane.clearFaults();
    const retried = await create('fault-throttle');

    // Assess
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('5');
    expect(retried.status).toBe(200);
    await expectConsistent('fault-throttle');
  });

  it('a link that hangs past the request time-out is retried by the SDK: one key, linked, answered 200', async () => {
    // Prepare: the first link answers after 3.5 s; the SDK gives up on it at 3 s and tries again.
    controlPlane.injectFault('CreateUsagePlanKey', { kind: 'delay', delayMs: 3_500 }, 1);

    // Act
    const { result: response, calls: links } = await callsDuring('CreateUsagePlanKey', () => create('fault-timeout'));

    // Assess
    expect(response.status).toBe(200);
    expect(links).toBe(2);
    expect(controlPlane.usagePlanKeyIds('1el57v')).toContain(response.json.apiKeyId);
    expect(keysOf('fault-timeout')).toHaveLength(1);
    await expectConsistent('fault-timeout');
  });

  it('a dropped connection and a 5xx are retried by the SDK: one key, answered 200', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'reset' }, 1);
    controlPlane.injectFault('CreateUsagePlanKey', { kind: 'error', status: 503, errorType: 'ServiceUnavailableException' }, 1);

    // Act
    const response = await create('fault-transient');

    // Assess
    expect(response.status).toBe(200);
    expect(keysOf('fault-transient')).toHaveLength(1);
    await expectConsistent('fault-transient');
  });
  it('CreateApiKey made the key but its answer was lost, then the retry was refused: 502, the claim kept, and the retry after its lease removes the lost key', async () => {
    // Prepare: the SDK's final error is a 4xx, which alone would say nothing was made.
    controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, 1);
    controlPlane.injectFault('CreateApiKey', badRequest, 1);

    // Act
    const failed = await create('fault-lost-refused');
    const lost = keysOf('fault-lost-refused');
    const claim = await registry.get('fault-lost-refused');
    const tooSoon = await create('fault-lost-refused');
    await leaseRunsOut('fault-lost-refused');
    const retried = await create('fault-lost-refused');

    // Assess
    expect(failed.status).toBe(502);
    expect(lost).toHaveLength(1);
    expect(claim?.state).toBe('PENDING');
    expect(tooSoon.status).toBe(409);
    expect(retried.status).toBe(200);
    expect(keysOf('fault-lost-refused').map((key) => key.id)).toEqual([retried.json.apiKeyId]);
    await expectConsistent('fault-lost-refused');
  });

  it("CreateApiKey succeeding on its second attempt, then the search for the first attempt's key failing: 502, the claim kept, and the retry after its lease leaves one key", async () => {
    // Prepare: the first attempt's key exists unanswered; the new key is answered; listing the app's keys fails.
    controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, 1);
    controlPlane.injectFault('GetApiKeys', serverError, persistent);

    // Act
    const failed = await create('fault-leftover-search');
    const made = keysOf('fault-leftover-search').length;
    const claim = await registry.get('fault-leftover-search');
    controlPlane.clearFaults();
    await leaseRunsOut('fault-leftover-search');
    const retried = await create('fault-leftover-search');

    // Assess
    expect(failed.status).toBe(502);
    expect(made).toBe(2);
    expect(claim?.state).toBe('PENDING');
    expect(retried.status).toBe(200);
    expect(keysOf('fault-leftover-search').map((key) => key.id)).toEqual([retried.json.apiKeyId]);
    await expectConsistent('fault-leftover-search');
  });

  it('CreateApiKey timing out after it made the key, then throttled: 502 and the claim kept, the time-out counting though the last answer was a 429', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'hang-answer', delayMs: 3_500 }, 1);
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 429, errorType: 'TooManyRequestsException' }, persistent);

    // Act
    const failed = await create('fault-timeout-throttled');
    const claim = await registry.get('fault-timeout-throttled');
    controlPlane.clearFaults();
    await leaseRunsOut('fault-timeout-throttled');
    const retried = await create('fault-timeout-throttled');

    // Assess
    expect(failed.status).toBe(502);
    expect(claim?.state).toBe('PENDING');
    expect(retried.status).toBe(200);
    expect(keysOf('fault-timeout-throttled').map((key) => key.id)).toEqual([retried.json.apiKeyId]);
    await expectConsistent('fault-timeout-throttled');
  });

  // A slug of 122 to 128 characters gets a shortened name: the clean-up must search for that name, not the slug's.
  it.each([['fault-network'], [`fault-network-${'long'.repeat(27)}`]])(
    'CreateApiKey losing its answer on every attempt (a network error after the retries): 502, the claim kept, and the retry after its lease removes every lost key (%s)',
    async (appSlug) => {
      // Prepare
      controlPlane.injectFault('CreateApiKey', { kind: 'drop-answer' }, persistent);

      // Act
      const failed = await create(appSlug);
      const lost = keysOf(appSlug).length;
      controlPlane.clearFaults();
      const claim = await registry.get(appSlug);
      await leaseRunsOut(appSlug);
      const retried = await create(appSlug);

      // Assess
      expect(failed.status).toBe(502);
      expect(lost).toBeGreaterThan(1);
      expect(claim?.state).toBe('PENDING');
      expect(retried.status).toBe(200);
      expect(keysOf(appSlug).map((key) => key.id)).toEqual([retried.json.apiKeyId]);
      await expectConsistent(appSlug);
    },
  );

  it('a create retried after throttling alone looks for no leftovers: a throttled attempt made nothing', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 429, errorType: 'TooManyRequestsException' }, 1);

    // Act
    const { result: response, calls: searches } = await callsDuring('GetApiKeys', () => create('fault-throttled-once'));

    // Assess
    expect(response.status).toBe(200);
    expect(searches).toBe(0);
    await expectConsistent('fault-throttled-once');
  });

  it("API Gateway's LimitExceededException is its rate limit: 429 with Retry-After, not a full quota, and the retry completes", async () => {
    // Prepare: HTTP 429 in API Gateway's model, unlike Cognito's quota of the same name.
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 429, errorType: 'LimitExceededException' }, persistent);

    // Act
    const limited = await create('fault-rate-limit');
    controlPlane.clearFaults();
    const retried = await create('fault-rate-limit');

    // Assess
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe('AWS_THROTTLED');
    expect(limited.headers.get('retry-after')).toBe('5');
    expect(retried.status).toBe(200);
    await expectConsistent('fault-rate-limit');
  });

  it('the registry failing to claim: 502, nothing made in AWS, and the retry completes', async () => {
    // Prepare
    failNextRegistryWrite('PutItemCommand');

    // Act
    const { result: failed, calls: creates } = await callsDuring('CreateApiKey', () => create('fault-claim'));
    const retried = await create('fault-claim');

    // Assess
    expect(failed.status).toBe(502);
    expect(creates).toBe(0);
    expect(retried.status).toBe(200);
    await expectConsistent('fault-claim');
  });

  it('the registry failing to release the claim of a refused create: 502, the claim lapses with its lease, and the retry then completes', async () => {
    // Prepare
    controlPlane.injectFault('CreateApiKey', badRequest, 1);
    failNextRegistryWrite('DeleteItemCommand');

    // Act
    const failed = await create('fault-release');
    const tooSoon = await create('fault-release');
    await leaseRunsOut('fault-release');
    const retried = await create('fault-release');

    // Assess
    expect(failed.status).toBe(502);
    expect(keysOf('fault-release')).toHaveLength(1);
    expect(tooSoon.status).toBe(409);
    expect(retried.status).toBe(200);
    await expectConsistent('fault-release');
  });

  it('a long app slug (128 characters) gets a key named within AWS limits, found again by that name', async () => {
    // Prepare
    const appSlug = `${'s'.repeat(120)}-12345-7`;

    // Act
    const created = await create(appSlug);
    const replayed = await create(appSlug);

    // Assess
    expect(created.status).toBe(200);
    expect(replayed.json.apiKeyId).toBe(created.json.apiKeyId);
    const named = controlPlane.apiKeys().filter((key) => key.name === resourceName({ appKey: appSlug, appName: '', developer: '' }));
    expect(named.map((key) => key.id)).toEqual([created.json.apiKeyId]);
    expect(named[0]?.name.length).toBeLessThanOrEqual(128);
  });
});

describe('faults during updateCredentials and revokeCredentials', () => {
  afterEach(() => {
    controlPlane.clearFaults();
    dynamodb.middlewareStack.remove('failNextRegistryWrite');
  });

  it('an added link failing: the other additions are undone, the link removed to make way is put back, and the retry completes', async () => {
    // Prepare: 2fm68w takes 1el57v's stage, so 1el57v is unlinked before the additions.
    const { json } = await create('fault-update');
    controlPlane.injectFault('CreateUsagePlanKey', badRequest, 1);
    const update = {
      ...createRequest({ appSlug: 'fault-update', apis: withPlans('2fm68w', '5ip91z') }),
      credentialType: 'API_KEY',
      apiKeyId: json.apiKeyId,
    };
    const plans = ['1el57v', '2fm68w', '5ip91z'];

    // Act
    const failed = await post('/v1/updateCredentials', update);
    const linksAfterFailure = plans.filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(json.apiKeyId));
    const retried = await post('/v1/updateCredentials', update);

    // Assess
    expect(failed.status).toBe(502);
    expect(linksAfterFailure).toEqual(['1el57v']);
    expect(retried.status).toBe(204);
    expect(plans.filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(json.apiKeyId))).toEqual(['2fm68w', '5ip91z']);
    expect((await registry.get('fault-update'))?.usagePlanIds).toEqual(['2fm68w', '5ip91z']);
  });

  it('the registry failing to record the new grant: 502, and the retry brings the registry in line with AWS', async () => {
    // Prepare
    const { json } = await create('fault-record-grant');
    failNextRegistryWrite('UpdateItemCommand');
    const update = {
      ...createRequest({ appSlug: 'fault-record-grant', apis: withPlans('2fm68w') }),
      credentialType: 'API_KEY',
      apiKeyId: json.apiKeyId,
    };
    const linkedPlans = () => ['1el57v', '2fm68w', '3gn79x'].filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(json.apiKeyId));

    // Act
    const failed = await post('/v1/updateCredentials', update);
    const retried = await post('/v1/updateCredentials', update);

    // Assess
    expect(failed.status).toBe(502);
    expect(retried.status).toBe(204);
    expect(linkedPlans()).toEqual(['2fm68w']);
    expect((await registry.get('fault-record-grant'))?.usagePlanIds).toEqual(linkedPlans());
    await expectConsistent('fault-record-grant');
  });

  it('DeleteApiKey failing: 502, the key and its record stay, and the retry revokes', async () => {
    // Prepare
    const { json } = await create('fault-revoke');
    controlPlane.injectFault('DeleteApiKey', serverError, persistent);

    // Act
    const failed = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: json.apiKeyId });
    const stateAfterFailure = (await registry.get('fault-revoke'))?.state;
    controlPlane.clearFaults();
    const retried = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: json.apiKeyId });

    // Assess
    expect(failed.status).toBe(502);
    expect(stateAfterFailure).toBe('ACTIVE');
    expect(retried.status).toBe(204);
    await expectConsistent('fault-revoke');
  });

  it('the registry failing after the delete: 502, and the retry records the revoke', async () => {
    // Prepare
    const { json } = await create('fault-mark');
    failNextRegistryWrite('UpdateItemCommand', (input) => String(input.UpdateExpression).includes(':revoked'));

    // Act
    const failed = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: json.apiKeyId });
    const retried = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: json.apiKeyId });

    // Assess
    expect(failed.status).toBe(502);
    expect(keysOf('fault-mark')).toHaveLength(0);
    expect(retried.status).toBe(204);
    expect((await registry.get('fault-mark'))?.state).toBe('REVOKED');
    await expectConsistent('fault-mark');
  });
});
