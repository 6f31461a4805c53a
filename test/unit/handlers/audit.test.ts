import { GetApiKeysCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#commons/powertools';
import { aws, resetAwsMocks } from '../../helpers/aws-mocks.ts';

vi.hoisted(() => {
  process.env.CREDENTIAL_POLICY = JSON.stringify({ defaultType: 'API_KEY', usagePlanIds: ['1el57v'] });
});
const { handler } = await import('../../../lambda/handlers/audit.ts');

const record = (appKey: string, credentialId: string) => ({
  appKey,
  appName: appKey,
  developer: 'dev@example.com',
  credentialType: 'API_KEY',
  state: 'ACTIVE',
  credentialId,
  apiIds: ['5aba4csvd4'],
  usagePlanIds: ['1el57v'],
  scopes: [],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

describe('the scheduled audit function', () => {
  beforeEach(() => resetAwsMocks());

  it('publishes one Drift metric per kind, with the counts found, and changes nothing', async () => {
    // Prepare: one healthy key, one gone, one orphan, one foreign.
    aws.dynamodb.on(ScanCommand).resolves({ Items: [record('healthy', 'k1'), record('gone', 'k2')] });
    aws.apiGateway.on(GetApiKeysCommand).resolves({
      items: [
        { id: 'k1', name: 'portal-healthy', enabled: true, tags: { 'managed-by': 'portal-credentials-webhook' } },
        { id: 'k9', name: 'portal-orphan', enabled: true, tags: { 'managed-by': 'portal-credentials-webhook' } },
        { id: 'f1', name: 'someone-else', enabled: true },
      ],
    });
    aws.apiGateway.on(GetUsagePlanKeysCommand).resolves({ items: [{ id: 'k1' }, { id: 'k9' }] });
    const published: Record<string, number> = {};
    vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
      const dimensions: Record<string, string> = {};
      return {
        addDimension: (name: string, value: string) => void (dimensions[name] = value),
        addMetric: (name: string, _unit: unknown, value: number) => void (published[dimensions.kind ? `${name}:${dimensions.kind}` : name] = value),
      } as never;
    });

    // Act
    const result = await handler();

    // Assess
    expect(published).toEqual({
      'Drift:ORPHAN': 1,
      'Drift:GONE': 1,
      'Drift:GRANT_MISMATCH': 0,
      'Drift:STUCK_CLAIM': 0,
      'Drift:DISABLED_KEY': 0,
      ForeignCredentials: 1,
    });
    expect(result.counts).toEqual({ ORPHAN: 1, GONE: 1, GRANT_MISMATCH: 0, STUCK_CLAIM: 0, DISABLED_KEY: 0 });
    const calls = [...aws.apiGateway.calls(), ...aws.dynamodb.calls()].map((call) => (call.args[0] as object).constructor.name);
    expect(new Set(calls)).toEqual(new Set(['ScanCommand', 'GetApiKeysCommand', 'GetUsagePlanKeysCommand']));
  });
});
