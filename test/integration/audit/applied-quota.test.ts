import { describe, expect, it } from 'vitest';
import { runAuditCommand } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';

const { webhook } = await startWebhookForTests();
const { controlPlane } = webhook;

// The local webhook counts its pool against the default 1,000 app clients (APP_CLIENTS_QUOTA unset).
describe("npm run audit compares the pool's quota in force with the limit the deployment counts against", () => {
  it('says the applied quota is the one configured when Service Quotas agrees', async () => {
    // Act
    const audit = await runAuditCommand(webhook);

    // Assess
    expect(audit.exitCode).toBe(0);
    expect(audit.stdout).toContain('    Service Quotas applies 1,000 ("App clients per user pool"), as configured');
    expect(audit.stdout).toMatch(/AWS calls: .*servicequotas:ListServiceQuotas \d/);
  });

  it('reports a raised quota as a finding naming the setting, in the table and the JSON; not drift, and the gauge keeps its limit', async () => {
    // Prepare: the platform team had the quota raised, and did not tell the deployment.
    controlPlane.setServiceQuotas({ appClientsPerUserPool: 3_000 });

    // Act
    const table = await runAuditCommand(webhook);
    const json = await runAuditCommand(webhook, '--json');

    // Assess
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toContain(
      '    QUOTA MISMATCH: Service Quotas applies 3,000 ("App clients per user pool"), but the deployment counts against 1,000: ' +
        "set clientCredentials.appClientsQuota (the functions' APP_CLIENTS_QUOTA) to 3,000 (not drift; the audit changes no limit)",
    );
    expect(json.json.report.drift).toEqual([]);
    const gauge = json.json.gauges.find((level: { quota: string }) => level.quota === 'appClients');
    expect(gauge).toMatchObject({ limit: 1_000, applied: { read: true, value: 3_000, source: 'applied' } });
  });

  it('says in one line when Service Quotas refuses, and keeps the configured limit', async () => {
    // Prepare: the operator's role has no servicequotas: permissions.
    controlPlane.setServiceQuotas({ appClientsPerUserPool: 1_000, accessDenied: true });

    // Act
    const audit = await runAuditCommand(webhook);

    // Assess
    expect(audit.exitCode).toBe(0);
    expect(audit.stdout).toContain('    Quota in force not read from Service Quotas (AccessDeniedException): the gauge keeps the configured 1,000');
    expect(audit.stdout).toMatch(/App clients of pool \S+: 0 of 1,000/);
  });
});
