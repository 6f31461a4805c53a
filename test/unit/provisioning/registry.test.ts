import { afterAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Registry } from '#provisioning/registry';
import { lagIndexes } from '../../helpers/lagging-index.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';

const database = await startRegistryDatabase();
afterAll(() => database.close());

const now = 1_800_000_000_000;
const app = {
  appKey: 'app-1',
  appName: 'App',
  developer: 'dev@example.com',
  appSlug: 'app-1',
  apiIds: ['api1'],
  usagePlanIds: ['plan1'],
  scopes: [],
};
const lease = (claimToken: string, leaseExpiresAt: number) => ({ claimToken, leaseExpiresAt });

const iso = new Date(now).toISOString();
/** A create's claim, by `claimToken`, whose lease ends at `leaseExpiresAt`. */
const pending = (claimToken: string, leaseExpiresAt = now + 60_000) => ({
  ...app,
  credentialType: 'API_KEY' as const,
  state: 'PENDING' as const,
  ...lease(claimToken, leaseExpiresAt),
  createdAt: iso,
  updatedAt: iso,
});

/** An app whose create went through: claimed, then activated with `credentialId`. */
const issued = async (registry: Registry, credentialId: string) => {
  await registry.claim(pending('create'), now);
  await registry.activate(app.appKey, 'create', credentialId, iso);
};

describe('Registry', () => {
  let registry: Registry;
  beforeEach(async () => {
    registry = await database.newRegistry();
  });

  describe('hold', () => {
    it('lets one call at a time hold an issued credential, and hands it over once the holder lets go', async () => {
      // Prepare
      await issued(registry, 'key1');

      // Act
      const first = await registry.hold(app.appKey, 'key1', lease('first', now + 60_000), now);
      const second = await registry.hold(app.appKey, 'key1', lease('second', now + 60_000), now);
      await registry.releaseHold(app.appKey, 'first');
      const third = await registry.hold(app.appKey, 'key1', lease('third', now + 60_000), now);

      // Assess
      expect(first).toMatchObject({ held: true, tookOver: false });
      expect(second).toMatchObject({ held: false, current: { state: 'ACTIVE', credentialId: 'key1', claimToken: 'first' } });
      expect(third).toMatchObject({ held: true, tookOver: false });
    });

    it('takes over a hold whose lease ran out, and the record stays the issued credential', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('crashed', now - 1), now - 60_000);

      // Act
      const outcome = await registry.hold(app.appKey, 'key1', lease('next', now + 60_000), now);

      // Assess
      expect(outcome).toMatchObject({ held: true, tookOver: true, record: { claimToken: 'next', credentialId: 'key1' } });
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'ACTIVE', credentialId: 'key1', claimToken: 'next' });
    });

    it('refuses a credential the app no longer holds', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('revoker', now + 60_000), now);
      await registry.markRevoked(app.appKey, 'revoker', new Date(now).toISOString());

      // Act
      const outcome = await registry.hold(app.appKey, 'key1', lease('late', now + 60_000), now);

      // Assess
      expect(outcome).toMatchObject({ held: false, current: { state: 'REVOKED' } });
    });

    it('records a grant or a revocation only for the call that holds the app', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('holder', now + 60_000), now);
      const grant = { apiIds: ['api2'], usagePlanIds: ['plan2'], scopes: [] };

      // Act
      const byOther = await registry.recordGrant(app.appKey, 'other', grant, 'later');
      const revokedByOther = await registry.markRevoked(app.appKey, 'other', 'later');
      const byHolder = await registry.recordGrant(app.appKey, 'holder', grant, 'later');

      // Assess
      expect([byOther, revokedByOther, byHolder]).toEqual([false, false, true]);
      const record = await registry.get(app.appKey);
      expect(record).toMatchObject({ state: 'ACTIVE', usagePlanIds: ['plan2'] });
      expect(record?.claimToken).toBeUndefined();
    });
  });

  describe('findByCredentialId, on an index that lags the table', () => {
    const lagTheIndex = (lagMs: number) => {
      const stopLag = lagIndexes(database.documents, { lagMs, tableKey: 'appKey' });
      onTestFinished(() => void stopLag());
    };

    it('finds a credential the index does not show yet by the app the caller names', async () => {
      // Prepare
      lagTheIndex(60_000);
      await issued(registry, 'key1');

      // Act
      const unnamed = await registry.findByCredentialId('key1');
      const named = await registry.findByCredentialId('key1', app.appKey);
      const namedWrongly = await registry.findByCredentialId('key1', 'another-app');

      // Assess
      expect(unnamed).toBeUndefined();
      expect(named).toMatchObject({ appKey: app.appKey, state: 'ACTIVE', credentialId: 'key1' });
      expect(namedWrongly).toBeUndefined();
    });

    it('answers with the record as the table holds it now, not as the index last saw it', async () => {
      // Prepare
      lagTheIndex(50);
      await issued(registry, 'key1');
      await new Promise((resolve) => setTimeout(resolve, 80));
      await registry.hold(app.appKey, 'key1', lease('revoker', now + 60_000), now);
      await registry.markRevoked(app.appKey, 'revoker', new Date(now).toISOString());

      // Act
      const found = await registry.findByCredentialId('key1');

      // Assess
      expect(found).toMatchObject({ state: 'REVOKED', credentialId: 'key1' });
    });
  });
  describe('a write retried after its answer was lost, its first attempt applied', () => {
    /** Until the test ends, the next `command` that `matches` is carried out but answered by a time-out, and retried. */
    const loseNext = (command: string, matches?: (input: Record<string, unknown>) => boolean) => {
      const fault = loseNextAnswer(database.documents, command, matches);
      onTestFinished(fault.remove);
      return fault;
    };

    it('claim: finds its own claim and holds the app, answering what it replaced as a crashed create (unknown, so leftovers are looked for)', async () => {
      // Prepare
      const fault = loseNext('PutItemCommand');

      // Act
      const outcome = await registry.claim(pending('mine'), now);

      // Assess
      expect(fault.fired).toBe(true);
      expect(outcome).toMatchObject({ claimed: true, previous: { state: 'PENDING', appKey: app.appKey } });
      expect(outcome.claimed && (outcome.previous?.leaseExpiresAt ?? now) < now).toBe(true);
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'PENDING', claimToken: 'mine' });
    });

    it('claim: once released, the claim whose answer was lost is an expired claim the next call takes over at once', async () => {
      // Prepare
      loseNext('PutItemCommand');
      const outcome = await registry.claim(pending('mine'), now);

      // Act
      const released = await registry.releaseClaim(app.appKey, 'mine', outcome.claimed ? outcome.previous : undefined);
      const next = await registry.claim(pending('next'), now);

      // Assess
      expect(released).toBe(true);
      expect(next).toMatchObject({ claimed: true, previous: { state: 'PENDING' } });
    });

    it("claim: another call's claim is still refused", async () => {
      // Prepare
      await registry.claim(pending('first'), now);
      const fault = loseNext('PutItemCommand');

      // Act
      const outcome = await registry.claim(pending('second'), now);

      // Assess
      expect(fault.fired).toBe(true);
      expect(outcome).toMatchObject({ claimed: false, current: { claimToken: 'first' } });
    });

    it('activate: the claim already turned into this credential counts as activated', async () => {
      // Prepare
      await registry.claim(pending('create'), now);
      const fault = loseNext('UpdateItemCommand', updating(':active'));

      // Act
      const activated = await registry.activate(app.appKey, 'create', 'key1', iso);

      // Assess
      expect([fault.fired, activated]).toEqual([true, true]);
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'ACTIVE', credentialId: 'key1' });
    });

    it('hold: finds its own hold and holds the credential', async () => {
      // Prepare
      await issued(registry, 'key1');
      const fault = loseNext('UpdateItemCommand', updating('SET claimToken'));

      // Act
      const outcome = await registry.hold(app.appKey, 'key1', lease('mine', now + 60_000), now);

      // Assess
      expect(fault.fired).toBe(true);
      expect(outcome).toMatchObject({ held: true });
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'ACTIVE', claimToken: 'mine' });
    });

    it('recordGrant: the grant already recorded and the hold given up count as recorded', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('holder', now + 60_000), now);
      const fault = loseNext('UpdateItemCommand', updating('SET apiIds'));
      const grant = { apiIds: ['api2'], usagePlanIds: ['plan2'], scopes: [] };

      // Act
      const recorded = await registry.recordGrant(app.appKey, 'holder', grant, 'later');

      // Assess
      expect([fault.fired, recorded]).toEqual([true, true]);
      const record = await registry.get(app.appKey);
      expect(record).toMatchObject({ state: 'ACTIVE', usagePlanIds: ['plan2'], updatedAt: 'later' });
      expect(record?.claimToken).toBeUndefined();
    });

    it('recordGrant: a record that another call changed still is not ours', async () => {
      // Prepare: the holder's lease ran out, another call took over and recorded its own grant.
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('slow', now - 1), now - 60_000);
      await registry.hold(app.appKey, 'key1', lease('next', now + 60_000), now);
      await registry.recordGrant(app.appKey, 'next', { apiIds: ['api3'], usagePlanIds: ['plan3'], scopes: [] }, 'later');

      // Act
      const recorded = await registry.recordGrant(app.appKey, 'slow', { apiIds: ['api2'], usagePlanIds: ['plan2'], scopes: [] }, 'latest');

      // Assess
      expect(recorded).toBe(false);
    });

    it('markRevoked: the credential already marked revoked counts as marked', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('revoker', now + 60_000), now);
      const fault = loseNext('UpdateItemCommand', updating(':revoked'));

      // Act
      const marked = await registry.markRevoked(app.appKey, 'revoker', 'later');

      // Assess
      expect([fault.fired, marked]).toEqual([true, true]);
      const record = await registry.get(app.appKey);
      expect(record).toMatchObject({ state: 'REVOKED', credentialId: 'key1', revokedAt: 'later' });
      expect(record?.claimToken).toBeUndefined();
    });

    it('releaseClaim: a claim already deleted counts as released', async () => {
      // Prepare
      await registry.claim(pending('mine'), now);
      const fault = loseNext('DeleteItemCommand');

      // Act
      const released = await registry.releaseClaim(app.appKey, 'mine');

      // Assess
      expect([fault.fired, released]).toEqual([true, true]);
      expect(await registry.get(app.appKey)).toBeUndefined();
    });

    it('releaseClaim: the previous record already put back counts as released', async () => {
      // Prepare: a revoked credential, then a create's claim over it.
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('revoker', now + 60_000), now);
      await registry.markRevoked(app.appKey, 'revoker', iso);
      const claim = await registry.claim(pending('mine'), now);
      const fault = loseNext('PutItemCommand');

      // Act
      const released = await registry.releaseClaim(app.appKey, 'mine', claim.claimed ? claim.previous : undefined);

      // Assess
      expect([fault.fired, released]).toEqual([true, true]);
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'REVOKED', credentialId: 'key1' });
    });

    it('takeOverClaim: finds the expired claim already taken over by this call', async () => {
      // Prepare
      await registry.claim(pending('crashed', now - 1), now - 60_000);
      const stuck = (await registry.get(app.appKey)) as Parameters<Registry['takeOverClaim']>[0];
      const fault = loseNext('UpdateItemCommand', updating('SET claimToken'));

      // Act
      const taken = await registry.takeOverClaim(stuck, 'repairer', now + 60_000, now);

      // Assess
      expect([fault.fired, taken]).toEqual([true, true]);
      expect(await registry.get(app.appKey)).toMatchObject({ state: 'PENDING', claimToken: 'repairer' });
    });
  });
});
