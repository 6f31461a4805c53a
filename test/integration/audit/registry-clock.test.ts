import { describe, expect, it, onTestFinished } from 'vitest';
import { functionDefaults } from '#commons/defaults';
import type { CredentialRecord } from '#provisioning/registry';
import { Audit } from '../../../lambda/audit/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';

const { webhook, registry } = await startWebhookForTests();

/** A create that claimed the app a moment ago and is still running: its lease ends in a minute, by the registry's clock. */
const runningCreate = async (appKey: string) => {
  const at = new Date().toISOString();
  const claim: CredentialRecord & { claimToken: string; leaseExpiresAt: number } = {
    ...{ appKey, appSlug: appKey, appName: appKey, developer: 'email@mycompany.com', credentialType: 'API_KEY', state: 'PENDING' },
    ...{ apiIds: ['5aba4csvd4'], usagePlanIds: ['1el57v'], scopes: [], claimToken: 'running', leaseExpiresAt: Date.now() + 60_000 },
    ...{ createdAt: at, updatedAt: at },
  };
  expect((await registry.claim(claim, Date.now())).claimed).toBe(true);
};

describe("the audit judges leases by the registry's clock, not the machine's", () => {
  it('takes a running create for one in progress on a laptop whose clock runs five minutes ahead', async () => {
    // Prepare
    await runningCreate('clock-ahead');
    const audit = new Audit({
      registryTableName: webhook.tableName,
      apiKeys: { deploymentId: functionDefaults.deploymentId },
      leaseMs: 60_000,
      rateLimited: false,
      clock: () => Date.now() + 5 * 60_000,
    });
    onTestFinished(() => audit.destroy());

    // Act
    const { report, repairs } = await audit.run({ repair: true, apply: true });

    // Assess: not a stuck claim to release (which would delete what the create is making)
    expect(report.drift.filter((drift) => drift.appKey === 'clock-ahead')).toEqual([]);
    expect(report.inProgress.map((change) => change.appKey)).toContain('clock-ahead');
    expect(repairs.filter((repair) => repair.appKey === 'clock-ahead')).toEqual([]);
    expect((await registry.get('clock-ahead'))?.claimToken).toBe('running');
  });
});
