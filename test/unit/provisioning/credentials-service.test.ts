import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookError } from '#contract/errors';
import { CredentialPolicy } from '#provisioning/credential-policy';
import { CredentialsService } from '#provisioning/credentials-service';
import { type Grant, type IssuedCredential, LeftoversError, type Provisioner } from '#provisioning/provisioner';
import type { Registry } from '#provisioning/registry';
import { createRequest, withPlans } from '../../helpers/portal.ts';
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
    reveal: vi.fn(async (credentialId: string) => (live.has(credentialId) ? { credentialId, secret: `secret-of-${credentialId}` } : undefined)),
    regrant: vi.fn(async (credentialId: string, grant: Grant) => void live.set(credentialId, grant)),
    revoke: vi.fn(async (credentialId: string) => void live.delete(credentialId)),
    removeLeftovers: vi.fn(async () => {
      const count = live.size;
      live.clear();
      return count;
    }),
  } satisfies Provisioner & { live: Map<string, Grant> };
  return provisioner;
};

/** What a create killed mid-way leaves in the registry: a claim whose lease ends at `leaseExpiresAt`. */
const crashedClaim = (leaseExpiresAt: number) => ({
  appKey: '590d83b5c05f',
  appName: 'a',
  developer: 'd@x.io',
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
      provisioner.removeLeftovers.mockRejectedValueOnce(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));

      // Act
      const failure = await service().create(createRequest()).catch((error: WebhookError) => error);
      const retried = await service().create(createRequest());

      // Assess
      expect(failure).toMatchObject({ statusCode: 429 });
      expect(provisioner.live.has('orphan')).toBe(false);
      expect([...provisioner.live.keys()]).toEqual([(retried as { apiKeyId: string }).apiKeyId]);
    });

    it('keeps the claim when the credential it made cannot be recorded nor deleted', async () => {
      // Prepare
      vi.spyOn(registry, 'activate').mockRejectedValueOnce(Object.assign(new Error('down'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));
      provisioner.revoke.mockRejectedValueOnce(Object.assign(new Error('down'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }));

      // Act
      const failure = await service().create(createRequest()).catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 502, message: expect.stringMatching(/could not be undone yet; retry/) });
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'PENDING' });
    });

    it('releases the claim after a failed create, so a retry starts clean', async () => {
      // Prepare
      provisioner.create.mockRejectedValueOnce(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: {} }));

      // Act
      const failure = await service().create(createRequest()).catch((error: WebhookError) => error);
      const retry = await service().create(createRequest());

      // Assess
      expect(failure).toMatchObject({ statusCode: 502, code: 'AWS_FAILURE' });
      expect(retry.credentialType).toBe('API_KEY');
      expect(provisioner.live.size).toBe(1);
    });

    it('answers 503 with an actionable message when the quota is full (1,000 app clients per pool)', async () => {
      // Prepare
      provisioner.create.mockRejectedValueOnce(Object.assign(new Error('limit'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } }));

      // Act
      const failure = await service().create(createRequest()).catch((error: WebhookError) => error);

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
      await service().create(createRequest()).catch(() => undefined);
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
      const failure = await service().update({ ...createRequest(), credentialType: 'API_KEY', apiKeyId }).catch((error: WebhookError) => error);

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
      const failure = await service().update({ ...createRequest(), credentialType: 'API_KEY' }).catch((error: WebhookError) => error);

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
      const failure = await service().revoke({ credentialType: 'API_KEY', appSlug: '590d83b5c05f' }).catch((error: WebhookError) => error);

      // Assess
      expect(failure).toMatchObject({ statusCode: 409, code: 'APP_STATE_CHANGING' });
      expect(provisioner.live.has(issued.apiKeyId)).toBe(true);
      expect(await registry.get('590d83b5c05f')).toMatchObject({ state: 'ACTIVE', credentialId: issued.apiKeyId });
    });

    it('refuses a revoke naming the wrong credential type with 409', async () => {
      // Prepare
      const { apiKeyId } = (await service().create(createRequest())) as { apiKeyId: string };

      // Act
      const failure = await service().revoke({ credentialType: 'CLIENT_CREDENTIALS', appSlug: '590d83b5c05f' }).catch((error: WebhookError) => error);

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
});
