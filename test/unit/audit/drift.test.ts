import { describe, expect, it } from 'vitest';
import type { CredentialRecord } from '#provisioning/registry';
import type { Acknowledgement } from '../../../lambda/audit/acknowledgements.ts';
import { findDrift } from '../../../lambda/audit/drift.ts';
import type { Inventory, InventoryApiKey } from '../../../lambda/audit/inventory.ts';

const readAt = Date.parse('2026-11-30T03:00:00Z');
const minute = 60_000;
const home = '000000000000/us-east-1';

const record = (appKey: string, change: Partial<CredentialRecord> = {}): CredentialRecord => ({
  appKey,
  appSlug: appKey,
  appName: appKey,
  developer: 'dev@example.com',
  credentialType: 'API_KEY',
  state: 'ACTIVE',
  credentialId: `key-${appKey}`,
  apiIds: ['5aba4csvd4'],
  usagePlanIds: ['1el57v'],
  scopes: [],
  createdAt: '2026-11-01T00:00:00Z',
  updatedAt: '2026-11-01T00:00:00Z',
  ...change,
});

const key = (appKey: string, change: Partial<InventoryApiKey> = {}): InventoryApiKey => ({
  credentialType: 'API_KEY',
  credentialId: `key-${appKey}`,
  place: home,
  name: `portal-${appKey}`,
  enabled: true,
  usagePlanIds: ['1el57v'],
  ...change,
});

const inventory = (change: Partial<Inventory>): Inventory => ({
  readAt,
  records: [],
  acknowledgements: [],
  credentials: [],
  foreign: [],
  usagePlanIds: ['1el57v', '2fm68w'],
  home: { account: '000000000000', region: 'us-east-1' },
  places: [home],
  checkedTypes: ['API_KEY'],
  ...change,
});

const acknowledgement = (change: Partial<Acknowledgement>): Acknowledgement => ({
  kind: 'DISABLED_KEY',
  subject: 'key-paused',
  reason: 'paused while the partner migrates',
  expiresAt: new Date(readAt + 7 * 86_400_000).toISOString(),
  acknowledgedAt: '2026-11-29T00:00:00.000Z',
  acknowledgedBy: 'operator',
  ...change,
});

const summary = (findings: { kind: string; appKey?: string }[]) => findings.map(({ kind, appKey }) => `${kind} ${appKey}`);

describe('a change in progress is not drift', () => {
  it('reports an update holding an active key, with plans half-way, as IN_PROGRESS, not GRANT_MISMATCH, and counts nothing', () => {
    // Prepare: the update linked the new plan and has not recorded it yet; its hold runs for 4 more minutes.
    const held = record('updating', { claimToken: 'token', leaseExpiresAt: readAt + 4 * minute });

    // Act
    const report = findDrift(inventory({ records: [held], credentials: [key('updating', { usagePlanIds: ['1el57v', '2fm68w'] })] }), true);

    // Assess
    expect(report.drift).toEqual([]);
    expect(Object.values(report.counts).every((count) => count === 0)).toBe(true);
    expect(report.inProgress).toEqual([
      expect.objectContaining({
        kind: 'IN_PROGRESS',
        appKey: 'updating',
        credentialId: 'key-updating',
        leaseExpiresAt: new Date(readAt + 4 * minute).toISOString(),
      }),
    ]);
  });

  it('reports a revoke holding a key it already deleted as IN_PROGRESS, not GONE', () => {
    // Act
    const report = findDrift(inventory({ records: [record('revoking', { claimToken: 'token', leaseExpiresAt: readAt + minute })] }), true);

    // Assess
    expect(report.drift).toEqual([]);
    expect(summary(report.inProgress)).toEqual(['IN_PROGRESS revoking']);
  });

  it('reports a create whose claim still runs as IN_PROGRESS, and its key as no orphan', () => {
    // Prepare
    const claim = record('creating', { state: 'PENDING', claimToken: 'token', leaseExpiresAt: readAt + minute });
    delete claim.credentialId;

    // Act
    const report = findDrift(inventory({ records: [claim], credentials: [key('creating')] }), true);

    // Assess
    expect(report.drift).toEqual([]);
    expect(summary(report.inProgress)).toEqual(['IN_PROGRESS creating']);
  });

  it('judges a hold whose lease ran out as it would any record: the change died, its mismatch is drift', () => {
    // Prepare
    const dead = record('died-mid-update', { claimToken: 'token', leaseExpiresAt: readAt - 1 });

    // Act
    const report = findDrift(inventory({ records: [dead], credentials: [key('died-mid-update', { usagePlanIds: ['2fm68w'] })] }), true);

    // Assess
    expect(summary(report.drift)).toEqual(['GRANT_MISMATCH died-mid-update']);
    expect(report.inProgress).toEqual([]);
  });
});

describe('an audit that cannot see a kind of credential says so', () => {
  it('counts the active and pending records of a type it did not read, and is not complete', () => {
    // Prepare: only API keys read; the registry holds two live app clients and a revoked one.
    const client = (appKey: string, state: CredentialRecord['state']) =>
      record(appKey, { credentialType: 'CLIENT_CREDENTIALS', credentialId: `client-${appKey}`, state, scopes: ['payments/read'] });
    const records = [record('keyed'), client('a', 'ACTIVE'), client('b', 'PENDING'), client('c', 'REVOKED')];

    // Act
    const report = findDrift(inventory({ records, credentials: [key('keyed')] }), true);

    // Assess
    expect(report.complete).toBe(false);
    expect(report.unchecked).toEqual({ CLIENT_CREDENTIALS: 2 });
    expect(report.drift).toEqual([]);
  });

  it('is complete when every type the registry holds was read', () => {
    const report = findDrift(inventory({ records: [record('keyed')], credentials: [key('keyed')] }), true);
    expect(report.complete).toBe(true);
    expect(report.unchecked).toEqual({});
  });
});

describe('an acknowledged finding', () => {
  const paused = record('paused');
  const pausedKey = key('paused', { enabled: false });

  it('is reported apart, with its reason and expiry, and not counted', () => {
    // Act
    const report = findDrift(inventory({ records: [paused], credentials: [pausedKey], acknowledgements: [acknowledgement({})] }), true);

    // Assess
    expect(report.drift).toEqual([]);
    expect(report.counts.DISABLED_KEY).toBe(0);
    expect(report.acknowledged).toEqual([
      expect.objectContaining({
        kind: 'DISABLED_KEY',
        credentialId: 'key-paused',
        acknowledgement: expect.objectContaining({ reason: 'paused while the partner migrates', expiresAt: '2026-12-07T03:00:00.000Z' }),
      }),
    ]);
  });

  it('counts again once its acknowledgement has expired', () => {
    // Act
    const expired = acknowledgement({ expiresAt: new Date(readAt - 1).toISOString() });
    const report = findDrift(inventory({ records: [paused], credentials: [pausedKey], acknowledgements: [expired] }), true);

    // Assess
    expect(summary(report.drift)).toEqual(['DISABLED_KEY paused']);
    expect(report.counts.DISABLED_KEY).toBe(1);
    expect(report.acknowledged).toEqual([]);
  });

  it('covers that one finding only: new drift of the same kind, and other drift of the same key, still count', () => {
    // Prepare: a second key disabled by hand, and the acknowledged key also moved to another plan.
    const records = [paused, record('also-disabled')];
    const credentials = [key('paused', { enabled: false, usagePlanIds: ['2fm68w'] }), key('also-disabled', { enabled: false })];

    // Act
    const report = findDrift(inventory({ records, credentials, acknowledgements: [acknowledgement({})] }), true);

    // Assess
    expect(summary(report.drift).sort()).toEqual(['DISABLED_KEY also-disabled', 'GRANT_MISMATCH paused']);
    expect(summary(report.acknowledged)).toEqual(['DISABLED_KEY paused']);
    expect(report.counts).toMatchObject({ DISABLED_KEY: 1, GRANT_MISMATCH: 1 });
  });

  it('names a credential, not an app: a new key for the acknowledged app counts', () => {
    // Prepare: the app's key was replaced; the acknowledgement named the old key.
    const replaced = record('paused', { credentialId: 'key-new' });

    // Act
    const report = findDrift(
      inventory({
        records: [replaced],
        credentials: [key('paused', { credentialId: 'key-new', enabled: false })],
        acknowledgements: [acknowledgement({})],
      }),
      true,
    );

    // Assess
    expect(summary(report.drift)).toEqual(['DISABLED_KEY paused']);
  });
});
