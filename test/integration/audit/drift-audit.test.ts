import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiKeyProvisioner } from '#provisioning/api-key-provisioner';
import { LeftoversError, type Placement } from '#provisioning/provisioner';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import type { Drift } from '../../../lambda/audit/drift.ts';
import { repair } from '../../../lambda/audit/repair.ts';
import { localAudit, outOfBand, pendingClaim, runAuditCommand } from '../../helpers/audit.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, registry, post } = await startWebhookForTests();
const { controlPlane } = webhook;
const aws = outOfBand(webhook);
const apiGatewayClient = new APIGatewayClient({});
afterAll(() => apiGatewayClient.destroy());

const createKey = async (appSlug: string, ...plans: string[]) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans(...(plans.length ? plans : ['1el57v'])) }))).json.apiKeyId as string;
const createClient = async (appSlug: string) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: [{ id: 'q8w2e4r6t1', usagePlans: [] }] }))).json.clientId as string;

/** A create that claimed the app and died; its lease ran out a minute ago unless told otherwise. */
const deadClaim = async (appKey: string, leaseExpiresAt = Date.now() - 60_000) => {
  expect((await registry.claim(pendingClaim(appKey, { leaseExpiresAt }), Date.now())).claimed).toBe(true);
};

/** The registry says revoked while the key lives on, as a registry restored from an old backup would. */
const revokedInRegistryOnly = async (appKey: string, credentialId: string) => {
  const claimToken = randomUUID();
  expect((await registry.hold(appKey, credentialId, { claimToken, leaseExpiresAt: Date.now() + 60_000 }, Date.now())).held).toBe(true);
  expect(await registry.markRevoked(appKey, claimToken, new Date().toISOString())).toBe(true);
};

const keyIds = () => controlPlane.apiKeys().map((key) => key.id);
const findings = (json: any) => json.report.drift.map((d: any) => `${d.kind} ${d.appKey ?? '-'} ${d.credentialId ?? '-'}`).sort();

describe('the drift audit and its repair, against the local stand-ins', () => {
  it('finds each kind of drift exactly, repairs exactly it, and a second audit finds nothing; foreign credentials survive', async () => {
    // Prepare: credentials in order, and each kind of drift made behind the webhook's back.
    const healthyKey = await createKey('healthy-key');
    const healthyClient = await createClient('healthy-client');
    const orphan = await aws.createWebhookLikeKey('never-recorded');
    const revokedButLeft = await createKey('revoked-but-left');
    await revokedInRegistryOnly('revoked-but-left', revokedButLeft);
    const goneKey = await createKey('gone-key');
    await aws.deleteKey(goneKey);
    const movedKey = await createKey('moved-key', '1el57v');
    // One plan per API stage: out of 1el57v before into 2fm68w, as a hand-made move must.
    await aws.unlink(movedKey, '1el57v');
    await aws.link(movedKey, '2fm68w');
    const narrowedClient = await createClient('narrowed-client');
    await aws.setScopes(narrowedClient, ['payments/read']);
    await deadClaim('stuck-with-key');
    const leftover = await aws.createWebhookLikeKey('stuck-with-key');
    await deadClaim('stuck-empty');
    // A create still running (its lease holds): its key is no orphan.
    await deadClaim('still-creating', Date.now() + 60_000);
    const inProgress = await aws.createWebhookLikeKey('still-creating');
    // Not the webhook's: a look-alike name without our tags, an unrelated key, other apps' clients.
    // Another stack of the webhook in the account and Region (staging beside production): its keys, even for apps of this one.
    const foreignKeys = [
      await aws.createKey('portal-lookalike'),
      await aws.createKey('partner-key', { team: 'partners' }),
      await aws.createWebhookLikeKey('healthy-key', 'PortalStaging'),
      await aws.createWebhookLikeKey('other-deployments-app', 'PortalStaging'),
    ];
    const foreignClients = [await aws.createClient('partner-client', ['client_credentials']), await aws.createClient('portal-spa', ['code'])];

    // Act: audit.
    const audit = await runAuditCommand(webhook, '--json');

    // Assess: exactly the drift seeded, nothing about the healthy or in-progress credentials.
    expect(audit.exitCode).toBe(3);
    expect(findings(audit.json)).toEqual(
      [
        `GONE gone-key ${goneKey}`,
        `GRANT_MISMATCH moved-key ${movedKey}`,
        `GRANT_MISMATCH narrowed-client ${narrowedClient}`,
        `ORPHAN never-recorded ${orphan}`,
        `ORPHAN revoked-but-left ${revokedButLeft}`,
        'STUCK_CLAIM stuck-empty -',
        'STUCK_CLAIM stuck-with-key -',
      ].sort(),
    );
    const byApp = (appKey: string) => audit.json.report.drift.find((d: any) => d.appKey === appKey);
    expect(byApp('moved-key')).toMatchObject({ recorded: ['1el57v'], actual: ['2fm68w'] });
    expect(byApp('narrowed-client')).toMatchObject({ recorded: ['payments/read', 'payments/write'], actual: ['payments/read'] });
    expect(byApp('stuck-with-key')).toMatchObject({ leftovers: [leftover] });
    expect(audit.json.report.foreign.map((f: any) => f.credentialId).sort()).toEqual(
      [...foreignKeys, ...foreignClients, webhook.caller.clientId].sort(),
    );
    expect(audit.json.report.counts).toEqual({ ORPHAN: 2, GONE: 1, GRANT_MISMATCH: 2, STUCK_CLAIM: 2, DISABLED_KEY: 0 });

    // Act: a dry run changes nothing.
    const before = keyIds().sort();
    const dryRun = await runAuditCommand(webhook, '--json', '--repair');
    expect(dryRun.exitCode).toBe(3);
    expect(dryRun.json.repairs.every((r: any) => r.outcome === 'PLANNED')).toBe(true);
    expect(keyIds().sort()).toEqual(before);

    // Act: repair.
    const repaired = await runAuditCommand(webhook, '--json', '--repair', '--apply');

    // Assess: each action applied and logged, AWS and the registry brought in line.
    expect(repaired.exitCode).toBe(0);
    expect(repaired.json.repairs.map((r: any) => `${r.action} ${r.outcome}`).sort()).toEqual(
      [
        'DELETE_ORPHAN APPLIED',
        'DELETE_ORPHAN APPLIED',
        'FINISH_CLAIM APPLIED',
        'MARK_REVOKED APPLIED',
        'REGRANT APPLIED',
        'REGRANT APPLIED',
        'RELEASE_CLAIM APPLIED',
      ].sort(),
    );
    expect(repaired.stderr.split('\n').filter((line) => line.startsWith('APPLIED'))).toHaveLength(7);
    expect(keyIds()).not.toContain(orphan);
    expect(keyIds()).not.toContain(revokedButLeft);
    expect(await registry.get('gone-key')).toMatchObject({ state: 'REVOKED' });
    expect(controlPlane.usagePlanKeyIds('1el57v')).toContain(movedKey);
    expect(controlPlane.usagePlanKeyIds('2fm68w')).not.toContain(movedKey);
    expect((await aws.scopesOf(narrowedClient)).sort()).toEqual(['payments/read', 'payments/write']);
    expect(await registry.get('stuck-with-key')).toMatchObject({ state: 'ACTIVE', credentialId: leftover });
    expect(controlPlane.usagePlanKeyIds('1el57v')).toContain(leftover);
    expect(await registry.get('stuck-empty')).toMatchObject({ state: 'REVOKED' });
    expect(await registry.get('still-creating')).toMatchObject({ state: 'PENDING' });
    expect(keyIds()).toEqual(expect.arrayContaining([healthyKey, inProgress, ...foreignKeys]));
    expect(await Promise.all([healthyClient, ...foreignClients].map(aws.clientExists))).toEqual([true, true, true]);

    // Assess: a second audit finds nothing.
    const again = await runAuditCommand(webhook);
    // The create still running is listed apart, not as drift.
    expect(again.stdout).toContain('No drift: the registry and AWS agree (1 change(s) in progress, listed below).');
    expect(again.stdout).toMatch(/\n {2}still-creating API_KEY -: a create is under way/);
    expect(again.exitCode).toBe(0);

    // The finished claim answers the portal's retry with the credential it recorded.
    const retried = await post('/v1/createCredentials', createRequest({ appSlug: 'stuck-with-key' }));
    expect(retried.json.apiKeyId).toBe(leftover);
    await registry.markRevoked('still-creating', 'token-still-creating', new Date().toISOString());
    await aws.deleteKey(inProgress);
  });

  it('reports a key disabled outside the webhook and leaves it disabled: that may be on purpose', async () => {
    // Prepare
    const keyId = await createKey('disabled-by-hand');
    await aws.disableKey(keyId);

    // Act
    const audit = await runAuditCommand(webhook, '--repair', '--apply');

    // Assess
    expect(audit.exitCode).toBe(3);
    expect(audit.stdout).toMatch(new RegExp(`disabled-by-hand\\s+DISABLED_KEY\\s+API_KEY\\s+${keyId}`));
    expect(audit.stdout).toContain('nothing to repair');
    expect(controlPlane.apiKeys().find((key) => key.id === keyId)?.enabled).toBe(false);
  });

  it('skips a repair when the portal changed the credential after the audit read it', async () => {
    // Prepare: a grant mismatch, audited; then the portal updates the same credential.
    const keyId = await createKey('raced-app', '1el57v');
    await aws.link(keyId, '5ip91z');
    const audit = localAudit(webhook);
    const { report } = await audit.run();
    const stale = report.drift.find((d) => d.appKey === 'raced-app' && d.kind === 'GRANT_MISMATCH');
    expect(stale).toMatchObject({ recorded: ['1el57v'], actual: ['1el57v', '5ip91z'] });
    await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'raced-app', apis: withPlans('1el57v', '5ip91z') }),
      credentialType: 'API_KEY',
      apiKeyId: keyId,
    });

    // Act: the repair planned from the stale reading.
    const result = await repair(
      stale as Drift,
      {
        registry: audit.registry,
        provisioners: new Map([['API_KEY', new ApiKeyProvisioner(apiGatewayClient, new UsagePlanCatalog(apiGatewayClient))]]),
        exists: async () => true,
        leaseMs: 60_000,
      },
      true,
    );
    audit.destroy();

    // Assess: skipped, and the portal's update stands.
    expect(result).toMatchObject({ action: 'REGRANT', outcome: 'SKIPPED', detail: 'the credential was updated since the audit' });
    expect(controlPlane.usagePlanKeyIds('5ip91z')).toContain(keyId);
  });

  /** The app's grant mismatch as the audit reads it, and the registry it read from. */
  const auditedMismatch = async (appKey: string) => {
    const audit = localAudit(webhook);
    const { report } = await audit.run();
    const drift = report.drift.find((d) => d.appKey === appKey && d.kind === 'GRANT_MISMATCH') as Drift;
    expect(drift).toBeDefined();
    return { drift, registry: audit.registry };
  };

  it('gives the hold up when a regrant fails and is undone: the portal can change the app at once', async () => {
    // Prepare: a plan linked by hand, whose unlink AWS then refuses.
    const keyId = await createKey('regrant-refused', '1el57v');
    await aws.link(keyId, '5ip91z');
    const { drift, registry: auditRegistry } = await auditedMismatch('regrant-refused');
    controlPlane.injectFault('DeleteUsagePlanKey', { kind: 'error', status: 400, errorType: 'BadRequestException' }, 10);
    const provisioners = new Map([['API_KEY' as const, new ApiKeyProvisioner(apiGatewayClient, new UsagePlanCatalog(apiGatewayClient))]]);

    // Act
    const result = await repair(drift, { registry: auditRegistry, provisioners, exists: async () => true, leaseMs: 60_000 }, true);
    controlPlane.clearFaults();
    const record = await registry.get('regrant-refused');
    const update = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'regrant-refused', apis: withPlans('1el57v') }),
      credentialType: 'API_KEY',
      apiKeyId: keyId,
    });

    // Assess
    expect(result).toMatchObject({ action: 'REGRANT', outcome: 'FAILED' });
    expect(record).not.toHaveProperty('claimToken');
    expect(update.status).toBe(204);
  });

  it('keeps the hold for its lease when a regrant could not be undone: AWS may hold a half-made change', async () => {
    // Prepare
    const keyId = await createKey('regrant-leftovers', '1el57v');
    await aws.link(keyId, '5ip91z');
    const { drift, registry: auditRegistry } = await auditedMismatch('regrant-leftovers');
    const halfDone = new (class extends ApiKeyProvisioner {
      override async regrant(): Promise<Placement> {
        throw new LeftoversError(new Error('link refused'), new Error('unlink refused'));
      }
    })(apiGatewayClient, new UsagePlanCatalog(apiGatewayClient));

    // Act
    const result = await repair(
      drift,
      { registry: auditRegistry, provisioners: new Map([['API_KEY', halfDone]]), exists: async () => true, leaseMs: 60_000 },
      true,
    );
    const record = await registry.get('regrant-leftovers');

    // Assess
    expect(result).toMatchObject({ action: 'REGRANT', outcome: 'FAILED' });
    expect(record).toHaveProperty('claimToken');
  });
});
