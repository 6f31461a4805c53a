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

  it('prints nothing for a deployment without gauges', () => {
    expect(gaugeLines([])).toEqual([]);
  });
});
