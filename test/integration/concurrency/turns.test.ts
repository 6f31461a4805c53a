import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { recordAttemptOutcomes } from '#clients/attempt-outcomes';
import { fencedByTurns } from '#clients/turns';
import { WebhookError } from '#contract/errors';
import type { CreateCredentialsResponse } from '#contract/schemas';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { CredentialPolicy } from '#provisioning/credential-policy';
import { CredentialsService, type Invocation } from '#provisioning/credentials-service';
import type { Registry } from '#provisioning/registry';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import { type ControlPlaneSeed, startAwsControlPlane } from '../../../local/stand-ins/aws-control-plane.ts';
import { pauseBefore } from '../../helpers/gates.ts';
import { lagIndexes } from '../../helpers/lagging-index.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'SILENT';
});

// Two APIs on their own stages, so a key may be moved from one plan to the other and back.
const seed: ControlPlaneSeed = {
  restApis: [
    { id: 'ordersapi1', name: 'Orders' },
    { id: 'stockapi01', name: 'Stock' },
  ],
  usagePlans: [
    { id: 'ord001', name: 'Orders', apiStages: [{ apiId: 'ordersapi1', stage: 'prod' }] },
    { id: 'stk001', name: 'Stock', apiStages: [{ apiId: 'stockapi01', stage: 'prod' }] },
  ],
};
const orders = [{ id: 'ordersapi1', usagePlans: [{ id: 'ord001' }] }];
const stock = [{ id: 'stockapi01', usagePlans: [{ id: 'stk001' }] }];
const both = [...orders, ...stock];

const database = await startRegistryDatabase();
const controlPlane = await startAwsControlPlane({ seed });
const apiGateway = new APIGatewayClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  endpoint: controlPlane.url,
});
apiGateway.middlewareStack.use(recordAttemptOutcomes);
apiGateway.middlewareStack.use(fencedByTurns);
afterAll(async () => {
  apiGateway.destroy();
  await Promise.all([database.close(), controlPlane.close()]);
});

/** One clock for every call of a test: moving it forward is time passing while a call is frozen. */
let offsetMs = 0;
const now = () => Date.now() + offsetMs;
const frozenPastTheLease = () => {
  offsetMs += 61_000;
};

let registry: Registry;
let service: CredentialsService;
beforeEach(async () => {
  offsetMs = 0;
  controlPlane.reset();
  registry = await database.newRegistry();
  const usagePlans = new UsagePlanCatalog(apiGateway);
  service = new CredentialsService({
    registry,
    policy: new CredentialPolicy({ defaultType: 'API_KEY', apis: {} }, usagePlans),
    provisioners: [new ApiKeyProvisioner(apiGateway, usagePlans)],
    leaseMs: 60_000,
    waitMs: 200,
    pollMs: 5,
    now,
  });
});

const appSlug = 'turn-app';
const create = (apis = orders) => service.create({ appName: 'Turns', appSlug, developer: 'dev@example.com', apis });
const update = (apis: typeof orders, invocation?: Invocation) =>
  service.update({ appName: 'Turns', appSlug, developer: 'dev@example.com', apis, credentialType: 'API_KEY' }, invocation);
/** The answer a call ends with, as the contract's status and code. */
const answerOf = <T>(call: Promise<T>) =>
  call.then(
    (value) => ({ status: value === undefined ? 204 : 200, value }),
    (error: unknown) => (error instanceof WebhookError ? { status: error.statusCode, code: error.code } : { status: 500, error }),
  );
const keyIds = () => controlPlane.apiKeys().map((key) => key.id);
const plansOf = (keyId: string) => seed.usagePlans.filter((plan) => controlPlane.usagePlanKeyIds(plan.id).includes(keyId)).map((plan) => plan.id);

describe('a registry write whose answer is lost while another call takes the app', () => {
  it('a revoke whose markRevoked was applied answers 204, and leaves the credential a create issued meanwhile alone', async () => {
    // Prepare: K1 exists; the revoke's write lands, its answer is lost, and a create takes the revoked app
    const { apiKeyId: first } = (await create()) as CreateCredentialsResponse & { apiKeyId: string };
    let recreated: CreateCredentialsResponse | undefined;
    const fault = loseNextAnswer(database.documents, 'UpdateItemCommand', updating('revokedAt'), async () => {
      recreated = await create();
    });

    // Act
    const revoked = await answerOf(service.revoke({ credentialType: 'API_KEY', appSlug }));
    fault.remove();

    // Assess: the revoke is done, and said so; the create's key is the app's and exists
    expect(fault.fired).toBe(true);
    expect(revoked.status).toBe(204);
    const second = (recreated as { apiKeyId: string }).apiKeyId;
    expect(second).not.toBe(first);
    expect(keyIds()).toEqual([second]);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', credentialId: second });
  });

  it('an update whose recordGrant was applied answers 204, though a later update changed the record before its retry', async () => {
    // Prepare
    const { apiKeyId } = (await create()) as { apiKeyId: string };
    const fault = loseNextAnswer(database.documents, 'UpdateItemCommand', updating('apiIds'), () => update(both));

    // Act
    const first = await answerOf(update(stock));
    fault.remove();

    // Assess: the later update wins in AWS and in the registry, and the first was not told it lost
    expect(first.status).toBe(204);
    expect(plansOf(apiKeyId)).toEqual(['ord001', 'stk001']);
    expect(await registry.get(appSlug)).toMatchObject({ usagePlanIds: ['ord001', 'stk001'] });
  });

  it('a create whose activation was applied, then revoked before its retry, answers 409 retry, never 200 with a deleted key', async () => {
    // Prepare
    const fault = loseNextAnswer(database.documents, 'UpdateItemCommand', updating('#state = :active'), () =>
      service.revoke({ credentialType: 'API_KEY', appSlug }),
    );

    // Act
    const created = await answerOf(create());
    fault.remove();

    // Assess
    expect(created).toMatchObject({ status: 409, code: 'APP_STATE_CHANGING' });
    expect(keyIds()).toEqual([]);
    expect((await registry.get(appSlug))?.state).toBe('REVOKED');
  });
});

describe('a holder frozen with a call pending, resumed after its lease', () => {
  it('a revoke frozen before DeleteApiKey, resumed after a repeated create took the app, deletes nothing', async () => {
    // Prepare
    const { apiKeyId } = (await create()) as { apiKeyId: string };
    const gate = pauseBefore(apiGateway, 'DeleteApiKeyCommand');

    // Act: the revoke holds the app and freezes; past its lease a repeated create (new grant) takes the app and answers
    const revoking = answerOf(service.revoke({ credentialType: 'API_KEY', appSlug }));
    await gate.reached;
    frozenPastTheLease();
    const recreated = (await create(both)) as { apiKeyId: string };
    gate.release();
    const revoked = await revoking;

    // Assess: the key the portal was just given exists, as the registry says
    expect(recreated.apiKeyId).toBe(apiKeyId);
    expect(revoked).toMatchObject({ status: 503, code: 'TIMED_OUT' });
    expect(keyIds()).toEqual([apiKeyId]);
    expect(plansOf(apiKeyId)).toEqual(['ord001', 'stk001']);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId, usagePlanIds: ['ord001', 'stk001'] });
  });

  it('an update frozen before a link, resumed after a later update was recorded, links nothing', async () => {
    // Prepare
    const { apiKeyId } = (await create()) as { apiKeyId: string };
    const gate = pauseBefore(apiGateway, 'CreateUsagePlanKeyCommand');

    // Act
    const first = answerOf(update(both));
    await gate.reached;
    frozenPastTheLease();
    const later = await answerOf(update(orders));
    gate.release();
    const resumed = await first;

    // Assess: AWS holds what the registry recorded last
    expect(later.status).toBe(204);
    expect(resumed).toMatchObject({ status: 503, code: 'TIMED_OUT' });
    expect(plansOf(apiKeyId)).toEqual(['ord001']);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', usagePlanIds: ['ord001'] });
  });

  it("a create frozen in its leftover search, resumed after another create took its claim over, deletes none of the taker's keys", async () => {
    // Prepare: the first attempt's answer is lost, so the create looks for that attempt's key, and freezes there
    const fault = loseNextAnswer(apiGateway, 'CreateApiKeyCommand');
    // The record of a call's attempts must sit above the lost answer to see it, as the network's failures are.
    apiGateway.middlewareStack.use(recordAttemptOutcomes);
    const gate = pauseBefore(apiGateway, 'GetApiKeysCommand');

    // Act
    const first = answerOf(create());
    await gate.reached;
    fault.remove();
    frozenPastTheLease();
    const taker = (await create()) as { apiKeyId: string };
    gate.release();
    const resumed = await first;

    // Assess: the key the taker issued and recorded is the app's only one
    expect(resumed).toMatchObject({ status: 503, code: 'TIMED_OUT' });
    expect(keyIds()).toEqual([taker.apiKeyId]);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', credentialId: taker.apiKeyId });
  });

  it('a create frozen before its activation leaves its key to the next create after the lease, which deletes it: no key recorded nowhere', async () => {
    // Prepare
    const gate = pauseBefore(database.documents, 'UpdateItemCommand');

    // Act: frozen with its key made and linked, resumed past its lease; then the portal's retry
    const first = answerOf(create());
    await gate.reached;
    const made = keyIds();
    frozenPastTheLease();
    gate.release();
    const resumed = await first;
    const retried = (await create()) as { apiKeyId: string };

    // Assess
    expect(made).toHaveLength(1);
    expect(resumed).toMatchObject({ status: 503, code: 'TIMED_OUT' });
    expect(keyIds()).toEqual([retried.apiKeyId]);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', credentialId: retried.apiKeyId });
  });

  it('a change whose invocation the time-out guard gave up does nothing more, even within its lease', async () => {
    // Prepare
    const { apiKeyId } = (await create()) as { apiKeyId: string };
    const gate = pauseBefore(apiGateway, 'DeleteApiKeyCommand');
    const guard = new AbortController();

    // Act
    const revoking = answerOf(service.revoke({ credentialType: 'API_KEY', appSlug }, { signal: guard.signal }));
    await gate.reached;
    guard.abort();
    gate.release();
    const revoked = await revoking;

    // Assess: the portal was answered TIMED_OUT; the key and its record stay, held until the lease ends
    expect(revoked).toMatchObject({ status: 503, code: 'TIMED_OUT' });
    expect(keyIds()).toEqual([apiKeyId]);
    expect(await registry.get(appSlug)).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId });
  });
});

describe('a revoke naming only the credential id', () => {
  it('revokes a key created a moment ago, though the index does not show it yet', async () => {
    // Prepare
    const unlag = lagIndexes(database.documents, { lagMs: 60_000, tableKey: 'appKey' });
    const { apiKeyId } = (await create()) as { apiKeyId: string };

    // Act
    const revoked = await answerOf(service.revoke({ credentialType: 'API_KEY', apiKeyId }));
    unlag();

    // Assess: the 204 is true
    expect(revoked.status).toBe(204);
    expect(keyIds()).toEqual([]);
    expect((await registry.get(appSlug))?.state).toBe('REVOKED');
  });

  it('answers 204 for a key that exists nowhere', async () => {
    // Act
    const revoked = await answerOf(service.revoke({ credentialType: 'API_KEY', apiKeyId: 'nosuchkey1' }));

    // Assess
    expect(revoked.status).toBe(204);
  });
});

describe('update and revoke name the developer the app was issued to', () => {
  it('refuses an update by slug naming another developer with 409, changing nothing', async () => {
    // Prepare
    const { apiKeyId } = (await create()) as { apiKeyId: string };

    // Act
    const updated = await answerOf(
      service.update({ appName: 'Turns', appSlug, developer: 'someone@else.example', apis: both, credentialType: 'API_KEY' }),
    );

    // Assess
    expect(updated).toMatchObject({ status: 409, code: 'APP_DEVELOPER_MISMATCH' });
    expect(plansOf(apiKeyId)).toEqual(['ord001']);
  });
});
