import { afterAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { WebhookError } from '#contract/errors';
import { CredentialPolicy } from '#provisioning/credential-policy';
import { CredentialsService } from '#provisioning/credentials-service';
import { type CredentialRef, type Grant, type IssuedCredential, LeftoversError, type Placement, type Provisioner } from '#provisioning/provisioner';
import type { Registry } from '#provisioning/registry';
import { awsError } from '../../helpers/aws-errors.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';
import { lagIndexes } from '../../helpers/lagging-index.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';
import { seededUsagePlans } from '../../helpers/usage-plans.ts';

/** A provisioner whose AWS side is a map, so every branch of the lifecycle can be steered. */
const fakeProvisioner = () => {
  const live = new Map<string, Grant>();
  let counter = 0;
  const provisioner = {
    credentialType: 'API_KEY' as const,
    live,
    create: vi.fn(async (_app, grant: Grant): Promise<IssuedCredential> => {
      const credentialId = `key${++counter}`;
      live.set(credentialId, grant);
      return { credentialId, secret: `secret-of-${credentialId}` };
    }),
    reveal: vi.fn(async ({ credentialId }: CredentialRef) =>
      live.has(credentialId) ? { credentialId, secret: `secret-of-${credentialId}` } : undefined,
    ),
    regrant: vi.fn(async ({ credentialId }: CredentialRef, grant: Grant): Promise<Placement> => {
      live.set(credentialId, grant);
      return {};
    }),
    revoke: vi.fn(async ({ credentialId }: CredentialRef) => void live.delete(credentialId)),
    removeLeftovers: vi.fn(async () => {
      const count = live.size;
      live.clear();
      return count;
    }),
    whereabouts: vi.fn(async (credentialId: string) => (live.has(credentialId) ? { ours: true } : undefined)),
    placesOf: () => ['000000000000/us-east-1'],
    quotasTaken: () => [],
  } satisfies Provisioner & { live: Map<string, Grant> };
  return provisioner;
};

/** What a create killed mid-way leaves in the registry: a claim whose lease ends at `leaseExpiresAt`. */
const crashedClaim = (leaseExpiresAt: number) => ({
  appKey: '590d83b5c05f',
  appName: 'a',
  developer: 'email@mycompany.com',
  apiIds: [],
  usagePlanIds: [],
  scopes: [],
  credentialType: 'API_KEY' as const,
  state: 'PENDING' as const,
  claimToken: 'crashed',
  leaseExpiresAt,
  createdAt: '',
  updatedAt: '',
});

/** What a change (update, revoke) killed mid-way leaves on an issued credential: its hold, ending at `leaseExpiresAt`. */
const holdOf = (registry: Registry, credentialId: string, leaseExpiresAt: number) =>
  registry.hold('590d83b5c05f', credentialId, { claimToken: 'crashed', leaseExpiresAt }, leaseExpiresAt - 60_000);

/** Resolves after `ms`, for fakes that must stay busy while another call runs. */
const elapsed = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const database = await startRegistryDatabase();
afterAll(() => database.close());

describe('CredentialsService', () => {
  let registry: Registry;
  let provisioner: ReturnType<typeof fakeProvisioner>;
  let clock: number;
  const service = (overrides: { waitMs?: number } = {}) =>
    new CredentialsService({
      registry,
      policy: new CredentialPolicy({ defaultType: 'API_KEY', apis: {} }, seededUsagePlans()),
      provisioners: [provisioner],
      leaseMs: 60_000,
      waitMs: overrides.waitMs ?? 1_000,
      pollMs: 10,
      now: () => clock,
    });

  beforeEach(async () => {
    registry = await database.newRegistry();
    provisioner = fakeProvisioner();
    clock = Date.now();
  });

  describe('create', () => {
    it('answers a repeated create with the same credential, creating only one', async () => {
      // Act
      const first = await service().create(createRequest());
      const second = await service().create(createRequest());

      // Assess
      expect(second).toEqual(first);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
      expect(provisioner.regrant).not.toHaveBeenCalled();
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: 'key1', usagePlanIds: ['1el57v'] });
    });

    it('creates one credential for concurrent creates of the same app, and answers both with it', async () => {
      // Prepare
      provisioner.create.mockImplementationOnce(async (_app, grant) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        provisioner.live.set('slow1', grant);
        return { credentialId: 'slow1', secret: 'secret-of-slow1' };
      });
      clock = Date.now();
      const realTime = service();

      // Act
      const answers = await Promise.all([realTime.create(createRequest()), realTime.create(createRequest()), realTime.create(createRequest())]);

      // Assess
      expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
    });

    it('answers 409 when an earlier create is still running after the wait', async () => {
      // Prepare
      await registry.claim(crashedClaim(clock + 60_000), clock);
      const impatient = service({ waitMs: 0 });

      // Act
      const failure = await impatient.create(createRequest()).catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 409, code: 'CREATE_IN_PROGRESS' });
      expect(provisioner.create).not.toHaveBeenCalled();
    });

    it('takes over a claim whose lease expired, removes what it left, and issues', async () => {
      // Prepare
      provisioner.live.set('orphan', { apiIds: [], usagePlanIds: [], scopes: [] });
      await registry.claim(crashedClaim(clock - 1), clock);

      // Act
      const answer = await service().create(createRequest());

      // Assess
      expect(provisioner.removeLeftovers).toHaveBeenCalledTimes(1);
      expect([...provisioner.live.keys()]).toEqual([(answer as { apiKeyId: string }).apiKeyId]);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE' });
    });

    it('puts a crashed claim back when taking it over fails, so its leftovers are still found later', async () => {
      // Prepare
      provisioner.live.set('orphan', { apiIds: [], usagePlanIds: [], scopes: [] });
      await registry.claim(crashedClaim(clock - 1), clock);
      provisioner.removeLeftovers.mockRejectedValueOnce(awsError('TooManyRequestsException', 429));

      // Act
      const failure = await service()
        .create(createRequest())
        .catch((error: WebhookError) => error);
      const retried = await service().create(createRequest());

      // Assess
      expect(failure).toMatchObject({ statusCode: 429 });
      expect(provisioner.live.has('orphan')).toBe(false);
      expect([...provisioner.live.keys()]).toEqual([(retried as { apiKeyId: string }).apiKeyId]);
    });

    it('keeps the claim when the credential it made cannot be recorded nor deleted', async () => {
      // Prepare
      vi.spyOn(registry, 'activate').mockRejectedValueOnce(awsError('InternalServerError', 500));
      provisioner.revoke.mockRejectedValueOnce(awsError('InternalFailure', 500));

      // Act
      const failure = await service()
        .create(createRequest())
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 502, message: expect.stringMatching(/could not be undone yet; retry/) });
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'PENDING' });
    });

    it('releases the claim after a failed create, so a retry starts clean', async () => {
      // Prepare
      provisioner.create.mockRejectedValueOnce(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: {} }));

      // Act
      const failure = await service()
        .create(createRequest())
        .catch((error: WebhookError) => error);
      const retry = await service().create(createRequest());

      // Assess
      expect(failure).toMatchObject({ statusCode: 502, code: 'AWS_FAILURE' });
      expect(retry.credentialType).toBe('API_KEY');
      expect(provisioner.live.size).toBe(1);
    });

    it('answers 503 with an actionable message when the quota is full (1,000 app clients per pool)', async () => {
      // Prepare
      provisioner.create.mockRejectedValueOnce(awsError('LimitExceededException', 400));

      // Act
      const failure = await service()
        .create(createRequest())
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 503, code: 'QUOTA_EXCEEDED', message: expect.stringMatching(/quota.*platform team/) });
      expect(await registry.get('590d83b5c05f')).toBeUndefined();
    });

    it('keeps the claim when the rollback failed, and the call after the lease cleans up', async () => {
      // Prepare
      provisioner.create.mockImplementationOnce(async () => {
        provisioner.live.set('half-made', { apiIds: [], usagePlanIds: [], scopes: [] });
        throw new LeftoversError(new Error('link failed'), new Error('delete failed'));
      });
      await service()
        .create(createRequest())
        .catch(() => undefined);
      expect((await registry.get('590d83b5c05f'))?.state).toBe('PENDING');

      // Act
      clock += 61_000;
      const answer = await service().create(createRequest());

      // Assess
      expect(provisioner.live.has('half-made')).toBe(false);
      expect(provisioner.live.has((answer as { apiKeyId: string }).apiKeyId)).toBe(true);
    });

    it('issues a new credential when the registered one was deleted outside the webhook', async () => {
      // Prepare
      const first = await service().create(createRequest());
      provisioner.live.clear();

      // Act
      const second = await service().create(createRequest());

      // Assess
      expect(second).not.toEqual(first);
      expect(provisioner.create).toHaveBeenCalledTimes(2);
    });

    it('issues a fresh credential for an app whose credential was revoked', async () => {
      // Prepare
      const first = (await service().create(createRequest())) as { apiKeyId: string };
      await service().revoke({ credentialType: 'API_KEY', apiKeyId: first.apiKeyId });

      // Act
      const second = (await service().create(createRequest())) as { apiKeyId: string };

      // Assess
      expect(second.apiKeyId).not.toBe(first.apiKeyId);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: second.apiKeyId });
    });

    it('derives a stable app key from developer and app name when the portal sends no slug', async () => {
      // Prepare
      const { appSlug: _, ...withoutSlug } = createRequest();

      // Act
      const first = await service().create(withoutSlug);
      const second = await service().create({ ...withoutSlug, developer: withoutSlug.developer.toUpperCase() });

      // Assess
      expect(second).toEqual(first);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
    });
  });

  describe('update and revoke', () => {
    it('records the new grant after regranting', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      await service().update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId });

      // Assess
      expect(provisioner.live.get(apiKeyId)?.usagePlanIds).toEqual(['2fm68w']);
      expect((await registry.get('590d83b5c05f'))?.usagePlanIds).toEqual(['2fm68w']);
    });

    it('refuses to update a revoked credential with 404', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      await service().revoke({ credentialType: 'API_KEY', apiKeyId });

      // Act
      const failure = await service()
        .update({ ...createRequest(), credentialType: 'API_KEY', apiKeyId })
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 404 });
      expect(provisioner.regrant).not.toHaveBeenCalled();
    });

    it('revokes by app slug, and a second revoke is a no-op', async () => {
      // Prepare
      await service().create(createRequest());

      // Act
      await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' });
      await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' });

      // Assess
      expect(provisioner.revoke).toHaveBeenCalledTimes(1);
      expect(provisioner.live.size).toBe(0);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED' });
    });

    it('answers 404 to an update of an app whose create crashed', async () => {
      // Prepare
      await registry.claim(crashedClaim(clock - 1), clock);

      // Act
      const failure = await service()
        .update({ ...createRequest(), credentialType: 'API_KEY' })
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 404 });
    });

    it('does not revoke a credential a create issued while the revoke was looking at the crashed claim', async () => {
      // Prepare: the revoke reads the crashed claim; meanwhile a create takes it over and issues.
      await registry.claim(crashedClaim(clock - 1), clock);
      const stale = await registry.get('590d83b5c05f');
      const issued = (await service().create(createRequest())) as { apiKeyId: string };
      vi.spyOn(registry, 'get').mockResolvedValueOnce(stale);

      // Act
      const failure = await service()
        .revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' })
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 409, code: 'APP_STATE_CHANGING' });
      expect(provisioner.live.has(issued.apiKeyId)).toBe(true);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: issued.apiKeyId });
    });

    it('refuses a revoke naming the wrong credential type with 409', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      const failure = await service()
        .revoke({ credentialType: 'CLIENT_CREDENTIALS', appSlug: '590d83b5c05f' })
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 409, code: 'CREDENTIAL_TYPE_MISMATCH' });
      expect(provisioner.live.has(apiKeyId)).toBe(true);
    });

    it('revoking an app whose create crashed cleans up the leftovers once the lease expired', async () => {
      // Prepare
      provisioner.live.set('orphan', { apiIds: [], usagePlanIds: [], scopes: [] });
      await registry.claim(crashedClaim(clock - 1), clock);

      // Act
      await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' });

      // Assess
      expect(provisioner.live.size).toBe(0);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED' });
    });
  });
  describe('one change at a time per app', () => {
    it('applies concurrent updates of one app one after the other, and records the grant AWS ends with', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      let running = 0;
      let mostAtOnce = 0;
      provisioner.regrant.mockImplementation(async ({ credentialId }: CredentialRef, grant: Grant) => {
        mostAtOnce = Math.max(mostAtOnce, ++running);
        await elapsed(20);
        provisioner.live.set(credentialId, grant);
        running--;
        return {};
      });
      const update = (plan: string) => service().update({ ...createRequest({ apis: withPlans(plan) }), credentialType: 'API_KEY', apiKeyId });

      // Act
      await Promise.all([update('2fm68w'), update('3gn79x'), update('1el57v')]);

      // Assess
      expect(mostAtOnce).toBe(1);
      expect(provisioner.regrant).toHaveBeenCalledTimes(3);
      const record = await registry.get('590d83b5c05f');
      expect(record?.usagePlanIds).toEqual(provisioner.live.get(apiKeyId)?.usagePlanIds);
      expect(record?.claimToken).toBeUndefined();
    });

    it('answers 404 to an update that waited for a revoke of the same credential, and touches nothing', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      provisioner.revoke.mockImplementationOnce(async ({ credentialId }: CredentialRef) => {
        await elapsed(30);
        provisioner.live.delete(credentialId);
      });

      // Act
      const revoked = service().revoke({ credentialType: 'API_KEY', apiKeyId });
      await elapsed(5);
      const failure = await service()
        .update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId })
        .catch((error: WebhookError) => error);
      await revoked;

      // Assess
      expect(failure).toMatchObject({ statusCode: 404, code: 'CREDENTIAL_NOT_FOUND' });
      expect(provisioner.regrant).not.toHaveBeenCalled();
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED', credentialId: apiKeyId });
    });

    it('answers 409 CHANGE_IN_PROGRESS to update, revoke and a changed create while another change still holds the app', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      await holdOf(registry, apiKeyId, clock + 60_000);
      const impatient = service({ waitMs: 0 });

      // Act
      const failures = await Promise.all([
        impatient
          .update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId })
          .catch((error: WebhookError) => error),
        impatient.revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' }).catch((error: WebhookError) => error),
        impatient.create(createRequest({ apis: withPlans('2fm68w') })).catch((error: WebhookError) => error),
      ]);

      // Assess
      for (const failure of failures) expect(failure).toMatchObject({ statusCode: 409, code: 'CHANGE_IN_PROGRESS' });
      expect(provisioner.regrant).not.toHaveBeenCalled();
      expect(provisioner.revoke).not.toHaveBeenCalled();
    });

    it('takes over the hold of a change that crashed, keeping the credential, and reconciles AWS with the next request', async () => {
      // Prepare: an update died after relinking half-way; its hold's lease has run out.
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      provisioner.live.set(apiKeyId, { apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v', '2fm68w'], scopes: [] });
      await holdOf(registry, apiKeyId, clock - 1);

      // Act: the portal repeats the create it knows of, with the grant the registry holds.
      const answer = (await service().create(createRequest())) as { apiKeyId: string };

      // Assess
      expect(answer.apiKeyId).toBe(apiKeyId);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
      expect(provisioner.live.get(apiKeyId)?.usagePlanIds).toEqual(['1el57v']);
      const record = await registry.get('590d83b5c05f');
      expect(record).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId, usagePlanIds: ['1el57v'] });
      expect(record?.claimToken).toBeUndefined();
    });

    it('keeps the hold when a change could not be undone, so the call after its lease reconciles', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      provisioner.regrant.mockRejectedValueOnce(new LeftoversError(new Error('unlink failed'), new Error('relink failed')));
      const update = () => service({ waitMs: 0 }).update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId });

      // Act
      const failure = await update().catch((error: WebhookError) => error);
      const tooSoon = await update().catch((error: WebhookError) => error);
      clock += 61_000;
      await update();

      // Assess
      expect(failure).toMatchObject({ statusCode: 502 });
      expect(tooSoon).toMatchObject({ statusCode: 409, code: 'CHANGE_IN_PROGRESS' });
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId, usagePlanIds: ['2fm68w'] });
    });

    it('keeps the hold when the registry fails after AWS changed, so the call after its lease records what AWS holds', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      vi.spyOn(registry, 'recordGrant').mockRejectedValueOnce(awsError('InternalServerError', 500));

      // Act
      const failure = await service()
        .update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId })
        .catch((error: WebhookError) => error);
      const heldAfterFailure = (await registry.get('590d83b5c05f'))?.claimToken;
      clock += 61_000;
      await service().create(createRequest());

      // Assess
      expect(failure).toMatchObject({ statusCode: 502, message: expect.stringMatching(/retry the request to finish it/) });
      expect(heldAfterFailure).toBeDefined();
      expect(provisioner.live.get(apiKeyId)?.usagePlanIds).toEqual(['1el57v']);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId, usagePlanIds: ['1el57v'] });
    });

    it('gives the hold up when a change fails and undoes itself, so a retry runs at once', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      provisioner.regrant.mockRejectedValueOnce(
        Object.assign(new Error('refused'), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }),
      );
      const update = () => service({ waitMs: 0 }).update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId });

      // Act
      const failure = await update().catch((error: WebhookError) => error);
      await update();

      // Assess
      expect(failure).toMatchObject({ statusCode: 502 });
      expect(await registry.get('590d83b5c05f')).toMatchObject({ usagePlanIds: ['2fm68w'] });
    });
  });

  describe('a repeated create is the same request', () => {
    it('answers 409 naming the conflict when another developer creates credentials for the app, revealing nothing', async () => {
      // Prepare
      await service().create(createRequest());

      // Act
      const failure = await service()
        .create(createRequest({ developer: 'someone.else@example.com' }))
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 409, code: 'APP_DEVELOPER_MISMATCH', message: expect.stringMatching(/another developer/) });
      expect(provisioner.reveal).not.toHaveBeenCalled();
      expect(provisioner.create).toHaveBeenCalledTimes(1);
    });

    it('takes the developer in any letter case as the same', async () => {
      // Prepare
      const first = await service().create(createRequest());

      // Act
      const second = await service().create(createRequest({ developer: createRequest().developer.toUpperCase() }));

      // Assess
      expect(second).toEqual(first);
    });

    it('brings the grant in line with a repeated create whose plans changed, records it, and returns the same credential', async () => {
      // Prepare
      const first = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      const second = (await service().create(createRequest({ apis: withPlans('2fm68w', '5ip91z') }))) as { apiKeyId: string };

      // Assess
      expect(second).toEqual(first);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
      expect(provisioner.regrant).toHaveBeenCalledWith(
        expect.objectContaining({ credentialId: first.apiKeyId }),
        expect.objectContaining({ usagePlanIds: ['2fm68w', '5ip91z'] }),
      );
      expect(provisioner.live.get(first.apiKeyId)?.usagePlanIds).toEqual(['2fm68w', '5ip91z']);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: first.apiKeyId, usagePlanIds: ['2fm68w', '5ip91z'] });
    });
  });

  describe('reads that see the last write (the credential-id index lags, as in DynamoDB)', () => {
    /** Until the test ends, the index answers as the table was `lagMs` ago. */
    const lagTheIndex = (lagMs: number) => {
      const stopLag = lagIndexes(database.documents, { lagMs, tableKey: 'appKey' });
      onTestFinished(() => void stopLag());
    };

    it('revokes a credential named by id and app right after its create, before the index shows it', async () => {
      // Prepare
      lagTheIndex(60_000);
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      await service().revoke({ credentialType: 'API_KEY', apiKeyId, appSlug: '590d83b5c05f' });

      // Assess
      expect(provisioner.live.has(apiKeyId)).toBe(false);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED', credentialId: apiKeyId });
    });

    it('updates a credential named by id and app right after its create, before the index shows it', async () => {
      // Prepare
      lagTheIndex(60_000);
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      await service().update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId });

      // Assess
      expect(provisioner.live.get(apiKeyId)?.usagePlanIds).toEqual(['2fm68w']);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ usagePlanIds: ['2fm68w'] });
    });

    it('answers 404 to an update of a credential revoked a moment ago, though the index still shows it active', async () => {
      // Prepare
      lagTheIndex(100);
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      await elapsed(150);
      await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' });

      // Act
      const failure = await service()
        .update({ ...createRequest(), appSlug: undefined, credentialType: 'API_KEY', apiKeyId })
        .catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 404, code: 'CREDENTIAL_NOT_FOUND' });
      expect(provisioner.regrant).not.toHaveBeenCalled();
    });
  });
  describe('a registry write applied, its answer lost, and retried by the SDK', () => {
    /** Until the test ends, the registry's next `command` that `matches` is carried out but answered by a time-out. */
    const loseNext = (command: string, matches?: (input: Record<string, unknown>) => boolean) => {
      const fault = loseNextAnswer(database.documents, command, matches);
      onTestFinished(fault.remove);
      return fault;
    };

    /** The registry equals AWS (the fake provisioner's map): the recorded credential and grant, or none; nobody holding the app. */
    const expectRegistryEqualsAws = async () => {
      const record = await registry.get('590d83b5c05f');
      expect(record?.claimToken).toBeUndefined();
      if (record?.state !== 'ACTIVE') return expect([...provisioner.live.keys()]).toEqual([]);
      expect([...provisioner.live.keys()]).toEqual([record.credentialId]);
      expect(provisioner.live.get(record.credentialId as string)?.usagePlanIds).toEqual(record.usagePlanIds);
    };

    it('a create whose claim was applied issues, after looking for what an earlier create may have left', async () => {
      // Prepare
      const fault = loseNext('PutItemCommand');

      // Act
      const answer = (await service().create(createRequest())) as { apiKeyId: string };

      // Assess
      expect(fault.fired).toBe(true);
      expect(provisioner.create).toHaveBeenCalledTimes(1);
      expect(provisioner.removeLeftovers).toHaveBeenCalledTimes(1);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: answer.apiKeyId });
      await expectRegistryEqualsAws();
    });

    it('a create whose claim was applied, then failed, leaves an expired claim: the retry takes it over at once and issues', async () => {
      // Prepare
      loseNext('PutItemCommand');
      provisioner.create.mockRejectedValueOnce(
        Object.assign(new Error('refused'), { name: 'BadRequestException', $metadata: { httpStatusCode: 400 } }),
      );
      const impatient = service({ waitMs: 0 });

      // Act
      const failure = await impatient.create(createRequest()).catch((error: WebhookError) => error);
      const retried = (await impatient.create(createRequest())) as { apiKeyId: string };

      // Assess
      expect(failure).toMatchObject({ statusCode: 502 });
      expect(provisioner.removeLeftovers).toHaveBeenCalledTimes(2);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: retried.apiKeyId });
      await expectRegistryEqualsAws();
    });

    it('a create whose activation was applied answers with the credential and keeps it', async () => {
      // Prepare
      const fault = loseNext('UpdateItemCommand', updating(':active'));

      // Act
      const answer = (await service().create(createRequest())) as { apiKeyId: string };

      // Assess
      expect(fault.fired).toBe(true);
      expect(provisioner.revoke).not.toHaveBeenCalled();
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: answer.apiKeyId });
      await expectRegistryEqualsAws();
    });

    it.each([
      ['hold', updating('SET claimToken')],
      ['recorded grant', updating('SET apiIds')],
    ])('an update whose %s was applied completes, and the registry records the grant AWS has', async (_write, matches) => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      const fault = loseNext('UpdateItemCommand', matches);

      // Act
      await service().update({ ...createRequest({ apis: withPlans('2fm68w') }), credentialType: 'API_KEY', apiKeyId });

      // Assess
      expect(fault.fired).toBe(true);
      expect(provisioner.regrant).toHaveBeenCalledTimes(1);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: apiKeyId, usagePlanIds: ['2fm68w'] });
      await expectRegistryEqualsAws();
    });

    it.each([
      ['hold', updating('SET claimToken')],
      ['revocation', updating(':revoked')],
    ])('a revoke whose %s was applied completes, and the registry records the credential revoked', async (_write, matches) => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };
      const fault = loseNext('UpdateItemCommand', matches);

      // Act
      await service().revoke({ credentialType: 'API_KEY', apiKeyId });

      // Assess
      expect(fault.fired).toBe(true);
      expect(provisioner.revoke).toHaveBeenCalledTimes(1);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED', credentialId: apiKeyId });
      await expectRegistryEqualsAws();
    });

    it('a repeated create with changed plans whose hold was applied brings the grant in line and answers the same credential', async () => {
      // Prepare
      const first = await service().create(createRequest());
      const fault = loseNext('UpdateItemCommand', updating('SET claimToken'));

      // Act
      const second = await service().create(createRequest({ apis: withPlans('2fm68w') }));

      // Assess
      expect(fault.fired).toBe(true);
      expect(second).toEqual(first);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', usagePlanIds: ['2fm68w'] });
      await expectRegistryEqualsAws();
    });

    it('a revoke of a crashed create whose claim was applied removes the leftovers and records the revocation', async () => {
      // Prepare
      provisioner.live.set('orphan', { apiIds: [], usagePlanIds: [], scopes: [] });
      await registry.claim(crashedClaim(clock - 1), clock);
      const fault = loseNext('PutItemCommand');

      // Act
      await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' });

      // Assess
      expect(fault.fired).toBe(true);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'REVOKED' });
      await expectRegistryEqualsAws();
    });
  });
});
