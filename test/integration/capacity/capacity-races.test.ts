import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { WebhookError } from '#contract/errors';
import { apiKeysGauge, type Gauge, memberOf } from '#provisioning/capacity';
import { refusal, startGaugeDatabase } from '../../helpers/capacity-gauges.ts';
import { loseNextAnswer, updating } from '../../helpers/lost-answers.ts';

const database = await startGaugeDatabase();
afterAll(() => database.close());

let places = 0;
/** A gauge of its own (a place no other run uses), so runs on one table never meet. */
const freshGauge = (limit: number): Gauge => ({ ...apiKeysGauge({ account: '222222222222', region: `eu-west-${++places}` }), limit });

describe('capacity gauges under concurrent and repeated calls (dynalite)', () => {
  it('admits exactly the limit when 50 apps reserve at once against a limit of 20, and refuses the other 30 with QUOTA_EXCEEDED', async () => {
    // Prepare
    const { gauges, storedItem } = await database.newGauges();
    const gauge = freshGauge(20);
    const apps = Array.from({ length: 50 }, (_, index) => `app-${index}`);

    // Act
    const outcomes = await Promise.all(apps.map((app) => refusal(gauges.reserve(gauge, app))));

    // Assess
    const refusals = outcomes.filter((outcome) => outcome !== undefined);
    expect(refusals).toHaveLength(30);
    for (const refused of refusals) expect(refused).toMatchObject({ statusCode: 503, code: 'QUOTA_EXCEEDED' });
    const admitted = apps.filter((_, index) => outcomes[index] === undefined);
    expect(await storedItem(gauge)).toMatchObject({ count: 20, members: new Set(admitted.map(memberOf)) });
  });

  it('counts once each app that reserves many times at once, and each release that runs many times at once', async () => {
    // Prepare
    const { gauges, storedItem } = await database.newGauges();
    const gauge = freshGauge(5);
    const apps = ['a', 'b', 'c'];

    // Act
    await Promise.all(apps.flatMap((app) => Array.from({ length: 8 }, () => gauges.reserve(gauge, app))));
    const afterReserves = await gauges.level(gauge);
    await Promise.all(Array.from({ length: 8 }, () => gauges.release(gauge, 'b')));

    // Assess
    expect(afterReserves).toEqual({ used: 3, limit: 5 });
    expect(await storedItem(gauge)).toMatchObject({ count: 2, members: new Set(['a', 'c'].map(memberOf)) });
  });

  type Step = { action: 'reserve' | 'release' | 'lostReserve' | 'lostRelease'; app: string };
  const step = fc.record({
    action: fc.constantFrom<Step['action']>('reserve', 'release', 'lostReserve', 'lostRelease'),
    app: fc.constantFrom('a', 'b', 'c', 'd'),
  });

  it('keeps count, members and a plain set model equal through any sequence of reserves, releases and lost answers', async () => {
    const { gauges, storedItem } = await database.newGauges();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 16 }), fc.integer({ min: 1, max: 3 }), async (steps, limit) => {
        // Prepare
        const gauge = freshGauge(limit);
        const model = new Set<string>();

        for (const { action, app } of steps) {
          // Act: a "lost" step is carried out by DynamoDB, its answer lost, and the SDK's retry sent.
          const lost = action.startsWith('lost')
            ? loseNextAnswer(database.documents, 'UpdateItemCommand', updating(action === 'lostReserve' ? 'ADD #members' : 'DELETE #members'))
            : undefined;
          try {
            if (action === 'reserve' || action === 'lostReserve') {
              const refused = await refusal(gauges.reserve(gauge, app));
              const full = !model.has(app) && model.size >= limit;
              // Assess: refused exactly when the model is full and lacks the app.
              expect(refused === undefined ? 'admitted' : (refused as WebhookError).code).toBe(full ? 'QUOTA_EXCEEDED' : 'admitted');
              if (!full) model.add(app);
            } else {
              await gauges.release(gauge, app);
              model.delete(app);
            }
          } finally {
            lost?.remove();
          }

          // Assess
          const stored = await storedItem(gauge);
          const members = (stored?.members as Set<string> | undefined) ?? new Set<string>();
          expect(Number(stored?.count ?? 0)).toBe(model.size);
          expect(members).toEqual(new Set([...model].map(memberOf)));
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('never lets a reconcile undo reserves and releases that race it: the gauge ends counting exactly the live apps', async () => {
    // Prepare: "stray" is counted but not live; the audit snapshots, then reads the live apps.
    const { gauges, storedItem } = await database.newGauges();
    const gauge = freshGauge(100);
    for (const app of ['a', 'b', 'stray']) await gauges.reserve(gauge, app);
    const snapshot = await gauges.snapshot(gauge);
    const liveAtScan = ['a', 'b'];

    // Act: creates and a revoke land between the snapshot and the reconcile's write.
    await Promise.all([gauges.reserve(gauge, 'c'), gauges.reserve(gauge, 'd'), gauges.release(gauge, 'a')]);
    const first = await gauges.reconcile(snapshot, liveAtScan);
    const retried = await gauges.reconcile(await gauges.snapshot(gauge), ['b', 'c', 'd']);

    // Assess
    expect(first).toEqual({ reconciled: false });
    expect(retried).toEqual({ reconciled: true, used: 3, added: 0, removed: 1 });
    expect(await storedItem(gauge)).toMatchObject({ count: 3, members: new Set(['b', 'c', 'd'].map(memberOf)) });
  });

  it('answers a WebhookError the edge turns into the contract body', async () => {
    // Prepare
    const { gauges } = await database.newGauges();
    const gauge = freshGauge(1);
    await gauges.reserve(gauge, 'a');

    // Act
    const refused = (await refusal(gauges.reserve(gauge, 'b'))) as WebhookError;

    // Assess
    expect(refused).toBeInstanceOf(WebhookError);
    expect(refused.toBody()).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining(`Region ${gauge.place.split('/')[1]}: 1 of 1 in use`),
    });
  });
});
