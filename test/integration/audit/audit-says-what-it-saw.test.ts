import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { outOfBand, runAuditCommand, runAuditCommandWith } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, registry, post } = await startWebhookForTests();
const { controlPlane } = webhook;
const aws = outOfBand(webhook);

const createKey = async (appSlug: string) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans('1el57v') }))).json.apiKeyId as string;
const createClient = async (appSlug: string) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: [{ id: 'q8w2e4r6t1', usagePlans: [] }] }))).json.clientId as string;
/** A day in `days` days, as `--acknowledge` takes it. */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

// The tests run in order on one webhook: each leaves the registry and AWS in agreement, or says what it leaves.
describe('the audit says what it saw, and only that', () => {
  it('refuses to call a registry clean when it did not read its app clients: exit 4, and says which and how to see them', async () => {
    // Prepare: an app client deleted in Cognito behind the webhook's back.
    const clientId = await createClient('client-app');
    await createKey('key-app');
    await aws.deleteClient(clientId);

    // Act: the audit without --user-pool-id (nor USER_POOL_ID).
    const audit = await runAuditCommandWith(webhook, { userPool: false });
    const json = await runAuditCommandWith(webhook, { userPool: false }, '--json');

    // Assess
    expect(audit.exitCode).toBe(4);
    expect(audit.stdout).not.toContain('the registry and AWS agree');
    expect(audit.stdout).toMatch(/NOT CHECKED: the registry holds 1 CLIENT_CREDENTIALS credential\(s\).*--user-pool-id/);
    expect(json.exitCode).toBe(4);
    expect(json.json.report).toMatchObject({ complete: false, unchecked: { CLIENT_CREDENTIALS: 1 } });

    // With the pool: the client is GONE; repaired, the audit is clean and complete.
    const seen = await runAuditCommand(webhook, '--json', '--repair', '--apply');
    expect(seen.json.report.drift.map((d: { kind: string; appKey: string }) => `${d.kind} ${d.appKey}`)).toEqual(['GONE client-app']);
    expect((await runAuditCommand(webhook)).exitCode).toBe(0);
  });

  it('reports a change under way as IN_PROGRESS, apart from drift: exit 0, and --repair leaves it alone', async () => {
    // Prepare: an update holds the key and has linked a second plan, not yet recorded.
    const keyId = await createKey('updating-app');
    const claimToken = randomUUID();
    expect((await registry.hold('updating-app', keyId, { claimToken, leaseExpiresAt: Date.now() + 60_000 }, Date.now())).held).toBe(true);
    await aws.link(keyId, '5ip91z');

    // Act
    const audit = await runAuditCommand(webhook, '--json', '--repair', '--apply');
    const table = await runAuditCommand(webhook);

    // Assess
    expect(audit.exitCode).toBe(0);
    expect(audit.json.report.drift).toEqual([]);
    expect(audit.json.report.counts.GRANT_MISMATCH).toBe(0);
    expect(audit.json.report.inProgress).toEqual([expect.objectContaining({ kind: 'IN_PROGRESS', appKey: 'updating-app', credentialId: keyId })]);
    expect(audit.json.repairs).toEqual([]);
    expect(controlPlane.usagePlanKeyIds('5ip91z')).toContain(keyId);
    expect(table.stdout).toContain('No drift: the registry and AWS agree (1 change(s) in progress, listed below).');
    expect(table.stdout).toMatch(/In progress .*\n {2}updating-app API_KEY/);

    // The update finishes: recorded with both plans, no longer in progress.
    expect(
      await registry.recordGrant(
        'updating-app',
        claimToken,
        { apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v', '5ip91z'], scopes: [] },
        new Date().toISOString(),
      ),
    ).toBe(true);
    expect((await runAuditCommand(webhook, '--json')).json.report.inProgress).toEqual([]);
  });

  it('acknowledges one finding with a reason and an expiry: not counted, seen by later audits, while new drift still counts', async () => {
    // Prepare: a key disabled on purpose.
    const pausedKey = await createKey('paused-app');
    await aws.disableKey(pausedKey);
    const before = await runAuditCommand(webhook, '--json');
    expect(before.exitCode, JSON.stringify(before.json.report)).toBe(3);

    // Act: acknowledge it.
    const acknowledged = await runAuditCommand(webhook, '--acknowledge', `DISABLED_KEY:${pausedKey}:${inDays(30)}:paused while the partner migrates`);

    // Assess: recorded; the run already reports it apart, and exits 0.
    expect(acknowledged.exitCode).toBe(0);
    expect(acknowledged.stdout).toContain(`Acknowledgement recorded: DISABLED_KEY ${pausedKey} until ${inDays(31)}T00:00:00.000Z`);
    expect(acknowledged.stdout).toContain('No drift: the registry and AWS agree (1 acknowledged exception(s), listed below).');
    expect(acknowledged.stdout).toMatch(new RegExp(`paused-app DISABLED_KEY API_KEY ${pausedKey}: "paused while the partner migrates" until`));

    // A later audit (the scheduled one reads the same table) sees it; the registry's apps are unchanged.
    const later = await runAuditCommand(webhook, '--json');
    expect(later.exitCode).toBe(0);
    expect(later.json.report.counts.DISABLED_KEY).toBe(0);
    expect(later.json.report.acknowledged).toEqual([
      expect.objectContaining({
        kind: 'DISABLED_KEY',
        credentialId: pausedKey,
        acknowledgement: expect.objectContaining({ reason: 'paused while the partner migrates' }),
      }),
    ]);
    expect(later.json.report.totals.records).toBe(before.json.report.totals.records);

    // New drift of the same kind still counts.
    const otherKey = await createKey('other-app');
    await aws.disableKey(otherKey);
    const fresh = await runAuditCommand(webhook, '--json');
    expect(fresh.exitCode, JSON.stringify(fresh.json.report)).toBe(3);
    expect(fresh.json.report.drift).toEqual([expect.objectContaining({ kind: 'DISABLED_KEY', credentialId: otherKey })]);
    await aws.enableKey(otherKey);
  });

  it('refuses an acknowledgement that names no current finding (exit 2), and records nothing', async () => {
    // Act
    const typo = await runAuditCommand(webhook, '--json', '--acknowledge', `ORPHAN:no-such-key:${inDays(5)}:a typo`);
    const whole = await runAuditCommand(webhook, '--acknowledge', `DISABLED_KEY:*:${inDays(5)}:every disabled key`);

    // Assess
    expect(typo.exitCode).toBe(2);
    expect(typo.json.acknowledgement).toEqual({ recorded: false, detail: 'no current ORPHAN finding names no-such-key: nothing acknowledged' });
    expect(whole.exitCode).toBe(2);
    expect((await runAuditCommand(webhook, '--json')).json.report.acknowledged).toHaveLength(1);
  });

  it('refuses an acknowledgement without a reason, past or too far ahead, or of no kind of drift, as wrong usage', async () => {
    for (const wrong of [
      `DISABLED_KEY:k:${inDays(5)}:`,
      'DISABLED_KEY:k:2020-01-01:old',
      `DISABLED_KEY:k:${inDays(400)}:forever`,
      `IN_PROGRESS:k:${inDays(5)}:no`,
    ]) {
      const run = await runAuditCommand(webhook, '--acknowledge', wrong);
      expect(run.exitCode, wrong).toBe(2);
      expect(run.stderr, wrong).toMatch(/--acknowledge/);
    }
  });
});
