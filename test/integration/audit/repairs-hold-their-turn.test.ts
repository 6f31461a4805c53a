import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { fencedByTurns } from '#clients/turns';
import { functionDefaults } from '#commons/defaults';
import type { CredentialType } from '#contract/schemas';
import { ApiKeyProvisioner, appKeyTag, deploymentTag, managedByTag, managedByValue } from '#provisioning/api-key-provisioner';
import { type Provisioner, resourceName } from '#provisioning/provisioner';
import { Registry } from '#provisioning/registry';
import { UsagePlanCatalog } from '#provisioning/usage-plan-catalog';
import type { Drift } from '../../../lambda/audit/drift.ts';
import { type RepairDependencies, repair } from '../../../lambda/audit/repair.ts';
import { localAudit, outOfBand, pendingClaim } from '../../helpers/audit.ts';
import { pauseBefore } from '../../helpers/gates.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, registry, post } = await startWebhookForTests();
const { controlPlane } = webhook;
const aws = outOfBand(webhook);

// The repair's own clients, fenced by turns as the audit's are, so that a test can pause one of its calls.
const apiGateway = new APIGatewayClient({});
apiGateway.middlewareStack.use(fencedByTurns);
const dynamodb = new DynamoDBClient({ endpoint: webhook.dynamoDbUrl });
dynamodb.middlewareStack.use(fencedByTurns);
const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
afterAll(() => {
  apiGateway.destroy();
  documents.destroy();
});
const provisioner = new ApiKeyProvisioner(apiGateway, new UsagePlanCatalog(apiGateway));
const deps: RepairDependencies = {
  registry: new Registry(documents, webhook.tableName),
  provisioners: new Map<CredentialType, Provisioner>([['API_KEY', provisioner]]),
  exists: async (_type, credentialId) => (await provisioner.reveal({ credentialId: credentialId })) !== undefined,
  leaseMs: 60_000,
};

const createKey = async (appSlug: string, ...plans: string[]) =>
  (await post('/v1/createCredentials', createRequest({ appSlug, apis: withPlans(...plans) }))).json.apiKeyId as string;
const update = (appSlug: string, apiKeyId: string, ...plans: string[]) =>
  post('/v1/updateCredentials', { ...createRequest({ appSlug, apis: withPlans(...plans) }), credentialType: 'API_KEY', apiKeyId });
const plansOf = (keyId: string) => ['1el57v', '5ip91z'].filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(keyId));

/** The finding the audit reports now for `appKey`. */
const audited = async (appKey: string, kind: Drift['kind']) => {
  const drift = (await localAudit(webhook).run()).report.drift.find((found) => found.appKey === appKey && found.kind === kind);
  expect(drift, `${kind} of ${appKey}`).toBeDefined();
  return drift as Drift;
};

/** A create that claimed the app and died a minute ago, asking for plan 1el57v; and the key it made, linked to nothing. */
const deadCreateWithItsKey = async (appKey: string) => {
  const claim = pendingClaim(appKey, { claimToken: `dead-${appKey}` });
  expect((await registry.claim(claim, Date.now())).claimed).toBe(true);
  return aws.createKey(resourceName({ appKey }), {
    [managedByTag]: managedByValue,
    [deploymentTag]: functionDefaults.deploymentId,
    [appKeyTag]: appKey,
  });
};

describe('audit repairs act on what their hold found, and keep it until AWS and the registry agree', () => {
  it('REGRANT skips when a portal update lands between the audit and its hold, so the update stands', async () => {
    // Prepare: a plan linked by hand; the audit plans to set the key back to 1el57v
    const keyId = await createKey('regrant-raced', '1el57v');
    await aws.link(keyId, '5ip91z');
    const drift = await audited('regrant-raced', 'GRANT_MISMATCH');
    const gate = pauseBefore(documents, 'UpdateItemCommand');

    // Act: the portal moves the key to both plans while the repair is about to take its hold
    const repairing = repair(drift, deps, true);
    await gate.reached;
    const portal = await update('regrant-raced', keyId, '1el57v', '5ip91z');
    gate.release();
    const result = await repairing;

    // Assess: the portal's 204 is true, in AWS and in the registry
    expect(portal.status).toBe(204);
    expect(result).toMatchObject({ action: 'REGRANT', outcome: 'SKIPPED' });
    expect(plansOf(keyId)).toEqual(['1el57v', '5ip91z']);
    expect(await registry.get('regrant-raced')).toMatchObject({ usagePlanIds: ['1el57v', '5ip91z'] });
    expect(await registry.get('regrant-raced')).not.toHaveProperty('claimToken');
  });

  it('FINISH_CLAIM grants before it records, so a portal update cannot land in between', async () => {
    // Prepare
    const keyId = await deadCreateWithItsKey('finish-raced');
    const drift = await audited('finish-raced', 'STUCK_CLAIM');
    const gate = pauseBefore(apiGateway, 'CreateUsagePlanKeyCommand');

    // Act: the portal asks for 5ip91z while the repair grants the claim's 1el57v
    const repairing = repair(drift, deps, true);
    await gate.reached;
    const updating = update('finish-raced', keyId, '5ip91z');
    await Promise.race([updating, sleep(300)]);
    gate.release();
    const [result, portal] = await Promise.all([repairing, updating]);

    // Assess: whatever the portal was answered, AWS holds what the registry says
    expect(result).toMatchObject({ action: 'FINISH_CLAIM', outcome: 'APPLIED' });
    const record = await registry.get('finish-raced');
    expect(record).toMatchObject({ state: 'ACTIVE', credentialId: keyId });
    expect(plansOf(keyId)).toEqual(record?.usagePlanIds);
    if (portal.status === 204) expect(record?.usagePlanIds).toEqual(['5ip91z']);
  });

  it('FINISH_CLAIM records no key that a create deleted since the audit, though the claim it put back looks the same', async () => {
    // Prepare: a create takes the dead claim over, deletes its leftover, fails, and puts the claim back as it was
    const keyId = await deadCreateWithItsKey('finish-deleted');
    const drift = await audited('finish-deleted', 'STUCK_CLAIM');
    controlPlane.injectFault('CreateApiKey', { kind: 'error', status: 400, errorType: 'BadRequestException' }, 1);
    const failedCreate = await post('/v1/createCredentials', createRequest({ appSlug: 'finish-deleted', apis: withPlans('1el57v') }));

    // Act
    const result = await repair(drift, deps, true);

    // Assess
    expect(failedCreate.status).toBe(502);
    expect(controlPlane.apiKeys().map((key) => key.id)).not.toContain(keyId);
    expect(result).toMatchObject({ action: 'FINISH_CLAIM', outcome: 'SKIPPED' });
    expect((await registry.get('finish-deleted'))?.state).toBe('PENDING');
  });

  it("DELETE_ORPHAN finds the app from the key's tag: a 125-character slug's create in progress keeps its key", async () => {
    // Prepare: a create of a long slug has claimed and made its key (shortened name), not yet recorded;
    // the finding is as an audit that read the registry before the claim reports it, the app read off the name.
    const appKey = `${'long-slug-'.repeat(12)}12345`;
    await registry.claim({ ...pendingClaim(appKey, { leaseExpiresAt: Date.now() + 60_000, claimToken: 'running' }), appName: 'Long' }, Date.now());
    const name = resourceName({ appKey });
    const keyId = await aws.createKey(name, { [managedByTag]: managedByValue, [deploymentTag]: functionDefaults.deploymentId, [appKeyTag]: appKey });
    const drift: Drift = {
      kind: 'ORPHAN',
      credentialType: 'API_KEY',
      credentialId: keyId,
      appKey: name.slice('portal-'.length),
      name,
      detail: 'made by the webhook, but no registry record holds it',
    };

    // Act
    const result = await repair(drift, deps, true);

    // Assess
    expect(name).toContain('+');
    expect(result).toMatchObject({ action: 'DELETE_ORPHAN', outcome: 'SKIPPED' });
    expect(controlPlane.apiKeys().map((key) => key.id)).toContain(keyId);
  });
});
