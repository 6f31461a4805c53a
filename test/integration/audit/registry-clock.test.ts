import { describe, expect, it } from 'vitest';
import { localAudit, pendingClaim } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';

const { webhook, registry } = await startWebhookForTests();

/** A create that claimed the app a moment ago and is still running: its lease ends in a minute, by the registry's clock. */
const runningCreate = async (appKey: string) => {
  const claim = pendingClaim(appKey, { leaseExpiresAt: Date.now() + 60_000, claimToken: 'running', at: new Date().toISOString() });
  expect((await registry.claim(claim, Date.now())).claimed).toBe(true);
};

describe("the audit judges leases by the registry's clock, not the machine's", () => {
  it('takes a running create for one in progress on a laptop whose clock runs five minutes ahead', async () => {
    // Prepare
    await runningCreate('clock-ahead');
    const audit = localAudit(webhook, { clock: () => Date.now() + 5 * 60_000 });

    // Act
    const { report, repairs } = await audit.run({ repair: true, apply: true });

    // Assess: not a stuck claim to release (which would delete what the create is making)
    expect(report.drift.filter((drift) => drift.appKey === 'clock-ahead')).toEqual([]);
    expect(report.inProgress.map((change) => change.appKey)).toContain('clock-ahead');
    expect(repairs.filter((repair) => repair.appKey === 'clock-ahead')).toEqual([]);
    expect((await registry.get('clock-ahead'))?.claimToken).toBe('running');
  });
});
