import { describe, expect, it } from 'vitest';
import { gaugeLines } from '../../../lambda/audit/report-text.ts';

const gauge = { quota: 'apiKeys' as const, place: '222222222222/eu-west-1', limit: 10_000, added: 0, removed: 0, reconciled: true };

describe('the audit report: capacity gauges', () => {
  it('says each gauge’s level, and what the audit corrected or could not', () => {
    // Act
    const lines = gaugeLines([
      { ...gauge, used: 8_123, counted: 8_124, removed: 1 },
      { ...gauge, place: '000000000000/us-east-1', used: 12, counted: 12, reconciled: false },
      {
        quota: 'appClients',
        place: 'us-east-1_AbC123',
        limit: 1_000,
        used: 0,
        counted: 0,
        added: 0,
        removed: 0,
        reconciled: false,
        error: 'AccessDeniedException',
      },
    ]);

    // Assess
    expect(lines).toEqual([
      '',
      'Capacity (gauges reconciled to the registry):',
      '  API keys in 222222222222/eu-west-1: 8,123 of 10,000 (81 %); corrected from 8,124 (0 added, 1 removed)',
      '  API keys in 000000000000/us-east-1: 12 of 10,000 (0 %); not corrected: it changed during the audit (the next audit corrects it)',
      '  App clients of pool us-east-1_AbC123: could not be read or corrected (AccessDeniedException)',
    ]);
  });

  const pool = {
    quota: 'appClients' as const,
    place: 'eu-west-1_AbC123',
    limit: 1_000,
    used: 412,
    counted: 412,
    added: 0,
    removed: 0,
    reconciled: true,
  };

  it('says, under the app clients’ gauge, that the quota Service Quotas applies is the limit configured', () => {
    // Act
    const lines = gaugeLines([{ ...pool, applied: { read: true, value: 1_000, source: 'applied' } }]);

    // Assess
    expect(lines.slice(2)).toEqual([
      '  App clients of pool eu-west-1_AbC123: 412 of 1,000 (41 %)',
      '    Service Quotas applies 1,000 ("App clients per user pool"), as configured',
    ]);
  });

  it('reports an applied quota that differs from the configured limit as a finding naming the setting to change, not as drift', () => {
    // Act
    const raised = gaugeLines([{ ...pool, applied: { read: true, value: 2_000, source: 'applied', quotaCode: 'L-APPCLNT' } }]);
    const defaulted = gaugeLines([{ ...pool, limit: 5_000, applied: { read: true, value: 1_000, source: 'default' } }]);

    // Assess: the gauge still counts against what is configured.
    expect(raised.slice(2)).toEqual([
      '  App clients of pool eu-west-1_AbC123: 412 of 1,000 (41 %)',
      '    QUOTA MISMATCH: Service Quotas applies 2,000 ("App clients per user pool"), but the deployment counts against 1,000: ' +
        "set clientCredentials.appClientsQuota (the functions' APP_CLIENTS_QUOTA) to 2,000 (not drift; the audit changes no limit)",
    ]);
    expect(defaulted[3]).toBe(
      '    QUOTA MISMATCH: Service Quotas lists no applied value ("App clients per user pool"): AWS\'s default 1,000 is in force, ' +
        "but the deployment counts against 5,000: set clientCredentials.appClientsQuota (the functions' APP_CLIENTS_QUOTA) to 1,000 " +
        '(not drift; the audit changes no limit)',
    );
  });

  it('says in one line when Service Quotas refused, and that the gauge keeps the configured limit', () => {
    // Act
    const lines = gaugeLines([{ ...pool, applied: { read: false, reason: 'AccessDeniedException' } }]);

    // Assess
    expect(lines.slice(3)).toEqual(['    Quota in force not read from Service Quotas (AccessDeniedException): the gauge keeps the configured 1,000']);
  });

  it('prints nothing for a deployment without gauges', () => {
    expect(gaugeLines([])).toEqual([]);
  });
});
