import { afterAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Registry } from '#provisioning/registry';
import { lagIndexes } from '../../helpers/lagging-index.ts';
import { startRegistryDatabase } from '../../helpers/registry.ts';

const database = await startRegistryDatabase();
afterAll(() => database.close());

const now = 1_800_000_000_000;
const app = { appKey: 'app-1', appName: 'App', developer: 'dev@example.com', appSlug: 'app-1', apiIds: ['api1'], usagePlanIds: ['plan1'], scopes: [] };
const lease = (claimToken: string, leaseExpiresAt: number) => ({ claimToken, leaseExpiresAt });

/** An app whose create went through: claimed, then activated with `credentialId`. */
const issued = async (registry: Registry, credentialId: string) => {
  const iso = new Date(now).toISOString();
  await registry.claim({ ...app, credentialType: 'API_KEY', state: 'PENDING', ...lease('create', now + 60_000), createdAt: iso, updatedAt: iso }, now);
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
      await registry.letGo(app.appKey, 'first');
      const third = await registry.hold(app.appKey, 'key1', lease('third', now + 60_000), now);

      // Assess
      expect(first).toEqual({ held: true, tookOver: false });
      expect(second).toMatchObject({ held: false, current: { state: 'ACTIVE', credentialId: 'key1', claimToken: 'first' } });
      expect(third).toEqual({ held: true, tookOver: false });
    });

    it('takes over a hold whose lease ran out, and the record stays the issued credential', async () => {
      // Prepare
      await issued(registry, 'key1');
      await registry.hold(app.appKey, 'key1', lease('crashed', now - 1), now - 60_000);

      // Act
      const outcome = await registry.hold(app.appKey, 'key1', lease('next', now + 60_000), now);

      // Assess
      expect(outcome).toEqual({ held: true, tookOver: true });
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
});
