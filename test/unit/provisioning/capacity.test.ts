import { afterAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { WebhookError } from '#contract/errors';
import { apiKeysGauge, appClientsGauge, type CapacityGauges, type Gauge, gaugeFull, memberOf } from '#provisioning/capacity';
import { refusal, startGaugeDatabase } from '../../helpers/capacity-gauges.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';

const database = await startGaugeDatabase();
afterAll(() => database.close());

const euWest: Gauge = { ...apiKeysGauge({ account: '222222222222', region: 'eu-west-1' }), limit: 3 };

describe('CapacityGauges', () => {
  let gauges: CapacityGauges;
  let storedItem: (gauge: Gauge) => Promise<Record<string, unknown> | undefined>;
  beforeEach(async () => {
    ({ gauges, storedItem } = await database.newGauges());
  });

  describe('reserve', () => {
    it('counts apps up to the limit, then refuses the next with 503 QUOTA_EXCEEDED naming the quota and the place', async () => {
      // Prepare
      for (const app of ['a', 'b', 'c']) await gauges.reserve(euWest, app);

      // Act
      const refused = await refusal(gauges.reserve(euWest, 'd'));

      // Assess
      expect(refused).toBeInstanceOf(WebhookError);
      expect(refused).toMatchObject({
        statusCode: 503,
        code: 'QUOTA_EXCEEDED',
        message: expect.stringMatching(/^API keys in account 222222222222, Region eu-west-1: 3 of 3 in use; the quota cannot be raised/),
        headers: {},
      });
      expect(await gauges.level(euWest)).toEqual({ used: 3, limit: 3 });
    });

    it('names the user pool and the adjustable Cognito quota when a pool is full', async () => {
      // Prepare
      const pool = { ...appClientsGauge('eu-west-1_AbC123'), limit: 1 };
      await gauges.reserve(pool, 'a');

      // Act
      const refused = await refusal(gauges.reserve(pool, 'b'));

      // Assess
      expect(refused).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: expect.stringMatching(/^App clients in user pool eu-west-1_AbC123: 1 of 1 in use; .*App clients per user pool/),
      });
    });

    it('answers the level after the change', async () => {
      // Act
      const first = await gauges.reserve(euWest, 'a');
      const second = await gauges.reserve(euWest, 'b');

      // Assess
      expect([first, second]).toEqual([
        { used: 1, limit: 3 },
        { used: 2, limit: 3 },
      ]);
    });

    it('counts an app reserved twice once, and accepts it again at the limit', async () => {
      // Prepare
      await gauges.reserve(euWest, 'a');
      await gauges.reserve(euWest, 'b');
      await gauges.reserve(euWest, 'c');

      // Act
      const repeated = await gauges.reserve(euWest, 'a');

      // Assess
      expect(repeated).toEqual({ used: 3, limit: 3 });
      expect(await storedItem(euWest)).toMatchObject({ count: 3, members: new Set(['a', 'b', 'c'].map(memberOf)) });
    });

    it("counts once a reserve the SDK retried because the first attempt's answer was lost", async () => {
      // Prepare
      const lost = loseNextAnswer(database.documents, 'UpdateItemCommand', updating('ADD #members'));
      onTestFinished(lost.remove);

      // Act
      const level = await gauges.reserve(euWest, 'a');

      // Assess
      expect(lost.fired).toBe(true);
      expect(level).toEqual({ used: 1, limit: 3 });
      expect(await storedItem(euWest)).toMatchObject({ count: 1, members: new Set([memberOf('a')]) });
    });

    it('keeps each gauge apart: a full place does not refuse another', async () => {
      // Prepare
      const usEast: Gauge = { ...apiKeysGauge({ account: '222222222222', region: 'us-east-1' }), limit: 3 };
      for (const app of ['a', 'b', 'c']) await gauges.reserve(euWest, app);

      // Act
      const level = await gauges.reserve(usEast, 'd');

      // Assess
      expect(level).toEqual({ used: 1, limit: 3 });
    });
  });

  describe('release', () => {
    it('counts an app released twice once', async () => {
      // Prepare
      await gauges.reserve(euWest, 'a');
      await gauges.reserve(euWest, 'b');

      // Act
      const first = await gauges.release(euWest, 'a');
      const second = await gauges.release(euWest, 'a');

      // Assess
      expect([first, second]).toEqual([
        { used: 1, limit: 3 },
        { used: 1, limit: 3 },
      ]);
    });

    it('changes nothing for an app never counted, even on a gauge that has no item yet', async () => {
      // Act
      const level = await gauges.release(euWest, 'never');

      // Assess
      expect(level).toEqual({ used: 0, limit: 3 });
      expect(await storedItem(euWest)).toBeUndefined();
    });

    it('frees room at the limit for another app; the last release leaves no set, as DynamoDB removes an emptied set', async () => {
      // Prepare
      for (const app of ['a', 'b', 'c']) await gauges.reserve(euWest, app);
      await gauges.release(euWest, 'b');

      // Act
      const admitted = await gauges.reserve(euWest, 'd');
      for (const app of ['a', 'c', 'd']) await gauges.release(euWest, app);

      // Assess
      expect(admitted).toEqual({ used: 3, limit: 3 });
      const stored = await storedItem(euWest);
      expect(stored).toMatchObject({ count: 0 });
      expect(stored).not.toHaveProperty('members');
    });
  });

  describe('the item', () => {
    it('is a reserved registry item holding a String Set of 16-hex-digit members, their count and a version', async () => {
      // Act
      await gauges.reserve(euWest, 'app-1');
      await gauges.reserve(euWest, 'app-2');

      // Assess
      const stored = await storedItem(euWest);
      expect(stored).toEqual({
        appKey: '#gauge#apiKeys#222222222222/eu-west-1',
        quota: 'apiKeys',
        place: '222222222222/eu-west-1',
        members: new Set([memberOf('app-1'), memberOf('app-2')]),
        count: 2,
        version: 2,
      });
      for (const member of (stored?.members ?? []) as Iterable<string>) expect(member).toMatch(/^[0-9a-f]{16}$/);
    });
  });

  describe('reconcile', () => {
    it('makes the gauge count exactly the live apps: a stray member goes, a missing one comes', async () => {
      // Prepare: "c" was revoked but its release never ran; "d" was made before the gauge counted it.
      for (const app of ['a', 'b', 'c']) await gauges.reserve(euWest, app);
      const snapshot = await gauges.snapshot(euWest);

      // Act
      const outcome = await gauges.reconcile(snapshot, ['a', 'b', 'd']);

      // Assess
      expect(outcome).toEqual({ reconciled: true, used: 3, added: 1, removed: 1 });
      expect(await storedItem(euWest)).toMatchObject({ count: 3, members: new Set(['a', 'b', 'd'].map(memberOf)) });
      expect(await refusal(gauges.reserve(euWest, 'e'))).toMatchObject({ code: 'QUOTA_EXCEEDED' });
      expect(await gauges.reserve(euWest, 'd')).toEqual({ used: 3, limit: 3 });
    });

    it('refuses to overwrite a reserve that ran after its snapshot, and keeps that reserve', async () => {
      // Prepare
      await gauges.reserve(euWest, 'a');
      const snapshot = await gauges.snapshot(euWest);
      await gauges.reserve(euWest, 'b');

      // Act
      const outcome = await gauges.reconcile(snapshot, ['a', 'c']);

      // Assess
      expect(outcome).toEqual({ reconciled: false });
      expect(await storedItem(euWest)).toMatchObject({ count: 2, members: new Set(['a', 'b'].map(memberOf)) });
    });

    it('refuses to overwrite a gauge created after a snapshot found none', async () => {
      // Prepare
      const snapshot = await gauges.snapshot(euWest);
      await gauges.reserve(euWest, 'a');

      // Act
      const outcome = await gauges.reconcile(snapshot, ['b']);

      // Assess
      expect(outcome).toEqual({ reconciled: false });
      expect(await storedItem(euWest)).toMatchObject({ count: 1, members: new Set([memberOf('a')]) });
    });

    it('counts the live apps even beyond the limit, then refuses new apps until enough are released', async () => {
      // Prepare
      const snapshot = await gauges.snapshot(euWest);

      // Act
      const outcome = await gauges.reconcile(snapshot, ['a', 'b', 'c', 'd']);
      const refused = await refusal(gauges.reserve(euWest, 'e'));
      await gauges.release(euWest, 'a');
      const stillRefused = await refusal(gauges.reserve(euWest, 'e'));
      await gauges.release(euWest, 'b');

      // Assess
      expect(outcome).toEqual({ reconciled: true, used: 4, added: 4, removed: 0 });
      expect(refused).toMatchObject({ message: expect.stringContaining('4 of 3 in use') });
      expect(stillRefused).toMatchObject({ code: 'QUOTA_EXCEEDED' });
      expect(await gauges.reserve(euWest, 'e')).toEqual({ used: 3, limit: 3 });
    });

    it('empties a gauge whose apps are all gone, and writes nothing when it already counts the live apps', async () => {
      // Prepare
      await gauges.reserve(euWest, 'a');

      // Act
      const emptied = await gauges.reconcile(await gauges.snapshot(euWest), []);
      const versionAfter = (await storedItem(euWest))?.version;
      const unchanged = await gauges.reconcile(await gauges.snapshot(euWest), []);

      // Assess
      expect(emptied).toEqual({ reconciled: true, used: 0, added: 0, removed: 1 });
      expect(unchanged).toEqual({ reconciled: true, used: 0, added: 0, removed: 0 });
      const stored = await storedItem(euWest);
      expect(stored).toMatchObject({ count: 0, version: versionAfter });
      expect(stored).not.toHaveProperty('members');
    });
  });

  describe('limits', () => {
    it('holds the default quotas: 10,000 API keys per Region, 1,000 app clients per pool unless configured, written with separators', () => {
      // Act
      const apiKeys = apiKeysGauge({ account: '222222222222', region: 'eu-west-1' });
      const appClients = appClientsGauge('eu-west-1_AbC123');

      // Assess
      expect([apiKeys.limit, appClients.limit, appClientsGauge('eu-west-1_AbC123', 5_000).limit]).toEqual([10_000, 1_000, 5_000]);
      expect(gaugeFull(apiKeys, 10_000).message).toContain('API keys in account 222222222222, Region eu-west-1: 10,000 of 10,000 in use');
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses a configured app-client limit of %s', (limit) => {
      // Assess
      expect(() => appClientsGauge('eu-west-1_AbC123', limit)).toThrow(/positive whole number/);
    });
  });
});
