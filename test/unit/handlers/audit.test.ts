import { GetApiKeysCommand, GetUsagePlanKeysCommand } from '@aws-sdk/client-api-gateway';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '#commons/powertools';
import { aws, resetAwsMocks } from '../../helpers/aws-mocks.ts';

vi.hoisted(() => {
  process.env.CREDENTIAL_POLICY = JSON.stringify({ defaultType: 'API_KEY', usagePlanIds: ['1el57v'] });
});
const { handler } = await import('../../../lambda/handlers/audit.ts');

const record = (appKey: string, credentialId: string, credentialType = 'API_KEY') => ({
  appKey,
  appName: appKey,
  developer: 'dev@example.com',
  credentialType,
  state: 'ACTIVE',
  credentialId,
  apiIds: ['5aba4csvd4'],
  usagePlanIds: ['1el57v'],
  scopes: [],
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
});

/** What the handler publishes, by metric name (and kind), while the test runs. */
const capturePublished = () => {
  const published: Record<string, number> = {};
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const named = (name: string) =>
      dimensions.kind ? `${name}:${dimensions.kind}` : dimensions.quota ? `${name}:${dimensions.quota}:${dimensions.place}` : name;
    return {
      addDimension: (name: string, value: string) => void (dimensions[name] = value),
      addDimensions: (added: Record<string, string>) => void Object.assign(dimensions, added),
      addMetric: (name: string, _unit: unknown, value: number) => void (published[named(name)] = value),
    } as never;
  });
  return published;
};

describe('the scheduled audit function', () => {
  beforeEach(() => {
    resetAwsMocks();
    vi.restoreAllMocks();
  });

  it('publishes one Drift metric per kind, with the counts found, and the API key gauge reconciled; changes no credential', async () => {
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
    const published = capturePublished();

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
      ChangesInProgress: 0,
      AcknowledgedDrift: 0,
      AuditCompleted: 1,
      // The registry holds two live keys at home: the empty gauge is set to them.
      'CapacityUsed:apiKeys:000000000000/us-east-1': 2,
      'CapacityLimit:apiKeys:000000000000/us-east-1': 10_000,
    });
    expect(result.gauges).toEqual([{ quota: 'apiKeys', place: '000000000000/us-east-1', used: 2, limit: 10_000, reconciled: true }]);
    expect(result.counts).toEqual({ ORPHAN: 1, GONE: 1, GRANT_MISMATCH: 0, STUCK_CLAIM: 0, DISABLED_KEY: 0 });
    const calls = [...aws.apiGateway.calls(), ...aws.dynamodb.calls()].map((call) => (call.args[0] as object).constructor.name);
    // Reads the registry (one GetItem sets its clock, one reads the gauge), the keys and their links; writes the gauge only.
    expect(new Set(calls)).toEqual(new Set(['GetCommand', 'ScanCommand', 'GetApiKeysCommand', 'GetUsagePlanKeysCommand', 'UpdateCommand']));
    const writes = aws.dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key?.appKey);
    expect(writes).toEqual(['#gauge#apiKeys#000000000000/us-east-1']);
  });

  it('fails, and publishes no completed audit, when the registry holds credentials of a type it does not read', async () => {
    // Prepare: a deployment that issues API keys only, whose registry still holds an active app client.
    aws.dynamodb.on(ScanCommand).resolves({ Items: [record('healthy', 'k1'), record('old-client', 'c1', 'CLIENT_CREDENTIALS')] });
    aws.apiGateway.on(GetApiKeysCommand).resolves({
      items: [{ id: 'k1', name: 'portal-healthy', enabled: true, tags: { 'managed-by': 'portal-credentials-webhook' } }],
    });
    aws.apiGateway.on(GetUsagePlanKeysCommand).resolves({ items: [{ id: 'k1' }] });
    const published = capturePublished();

    // Act
    const run = handler();

    // Assess: a failure (the errors alarm), never a clean report; the missing AuditCompleted alarms too.
    await expect(run).rejects.toThrow(/1 CLIENT_CREDENTIALS/);
    await expect(run).rejects.toMatchObject({ name: 'IncompleteAuditError' });
    expect(published).not.toHaveProperty('AuditCompleted');
    expect(published['Drift:GONE']).toBe(0);
  });
});
