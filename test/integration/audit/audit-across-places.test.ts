import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parsePlaceId } from '#commons/places';
import { apiKeysGauge, CapacityGauges, memberOf } from '#provisioning/capacity';
import { localPlaces } from '../../../local/local-webhook.ts';
import { pendingClaim } from '../../helpers/audit.ts';
import { outOfBandIn, placedPlans, places, placesAudit } from '../../helpers/audit-places.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, exampleApiId } from '../../helpers/portal.ts';

// The functions' logs and metrics load with the audit's modules, before the local webhook sets its environment.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

const { webhook, registry, post } = await startWebhookForTests();
const { controlPlane } = webhook;
const byHand = outOfBandIn(webhook);

const homeApi = { id: exampleApiId, usagePlans: [{ id: placedPlans.home }] };
const europeApi = { id: localPlaces.europe.apiId, usagePlans: [{ id: localPlaces.europe.usagePlanId }] };
const partnerApi = { id: localPlaces.partner.apiId, usagePlans: [{ id: localPlaces.partner.usagePlanId }] };

const createEverywhere = async (appSlug: string) => {
  const created = await post('/v1/createCredentials', createRequest({ appSlug, apis: [homeApi, europeApi, partnerApi] }));
  expect(created.status).toBe(200);
  const record = await registry.get(appSlug);
  return { apiKeyId: created.json.apiKeyId as string, apiKey: created.json.apiKey as string, placedIds: record?.placedIds ?? {} };
};
const keysOf = (appKey: string, place: string) => controlPlane.apiKeys(place).filter((key) => key.name === `portal-${appKey}`);
const about = (appKey: string) => (finding: { appKey?: string }) => finding.appKey === appKey;
/** What an audit (and its repair) found and did for one app. */
const auditOf = async (appKey: string, apply = false) => {
  const run = await placesAudit(webhook).run({ repair: apply, apply });
  return { drift: run.report.drift.filter(about(appKey)), repairs: run.repairs.filter(about(appKey)), run };
};

/** A create of all three places that claimed the app and died, leaving these keys. */
const deadThreePlaceClaim = async (appKey: string) => {
  const claim = { ...pendingClaim(appKey), apiIds: [exampleApiId, europeApi.id, partnerApi.id] };
  claim.usagePlanIds = [placedPlans.home, placedPlans.europe, placedPlans.partner].sort();
  expect((await registry.claim(claim, Date.now())).claimed).toBe(true);
};
const keyValue = () => randomBytes(32).toString('hex');

describe('the drift audit across places', () => {
  it('finds an orphan in a far place (another account) and deletes it there', async () => {
    // Prepare
    const orphan = await byHand.createWebhookLikeKey(places.partner, 'far-orphan');

    // Act
    const found = await auditOf('far-orphan');
    const repaired = await auditOf('far-orphan', true);

    // Assess
    expect(found.drift).toEqual([expect.objectContaining({ kind: 'ORPHAN', credentialId: orphan, place: places.partner })]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'DELETE_ORPHAN', outcome: 'APPLIED', credentialId: orphan })]);
    expect(keysOf('far-orphan', places.partner)).toEqual([]);
    expect((await auditOf('far-orphan')).drift).toEqual([]);
  });

  it('re-makes a key deleted by hand in a secondary place, with the same value, linked to its plan, and records it', async () => {
    // Prepare
    const { apiKeyId, apiKey, placedIds } = await createEverywhere('europe-deleted');
    await byHand.deleteKey(places.europe, placedIds[places.europe] as string);

    // Act
    const found = await auditOf('europe-deleted');
    const repaired = await auditOf('europe-deleted', true);

    // Assess
    expect(found.drift).toEqual([expect.objectContaining({ kind: 'GRANT_MISMATCH', credentialId: apiKeyId, missingIn: [places.europe] })]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'REGRANT', outcome: 'APPLIED' })]);
    const [remade] = keysOf('europe-deleted', places.europe);
    expect(remade?.value).toBe(apiKey);
    expect(controlPlane.usagePlanKeyIds(localPlaces.europe.usagePlanId, places.europe)).toContain(remade?.id);
    expect((await registry.get('europe-deleted'))?.placedIds).toEqual({ ...placedIds, [places.europe]: remade?.id });
    expect((await auditOf('europe-deleted')).drift).toEqual([]);
  });

  it('regrants links drifted in one place only', async () => {
    // Prepare
    const { apiKeyId, placedIds } = await createEverywhere('partner-unlinked');
    const partnerKey = placedIds[places.partner] as string;
    await byHand.unlink(places.partner, partnerKey, localPlaces.partner.usagePlanId);

    // Act
    const found = await auditOf('partner-unlinked');
    const repaired = await auditOf('partner-unlinked', true);

    // Assess
    expect(found.drift).toEqual([
      expect.objectContaining({ kind: 'GRANT_MISMATCH', credentialId: apiKeyId, actual: [placedPlans.home, placedPlans.europe].sort() }),
    ]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'REGRANT', outcome: 'APPLIED' })]);
    expect(controlPlane.usagePlanKeyIds(localPlaces.partner.usagePlanId, places.partner)).toContain(partnerKey);
    expect((await auditOf('partner-unlinked')).drift).toEqual([]);
  });

  it('marks a credential revoked when the key the portal knows is gone, deleting its keys in the other places', async () => {
    // Prepare
    const { apiKeyId } = await createEverywhere('home-deleted');
    await byHand.deleteKey(places.home, apiKeyId);

    // Act
    const found = await auditOf('home-deleted');
    const repaired = await auditOf('home-deleted', true);

    // Assess: GONE alone (the other places' keys are not orphans), and nothing left anywhere.
    expect(found.drift).toEqual([expect.objectContaining({ kind: 'GONE', credentialId: apiKeyId, place: places.home })]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'MARK_REVOKED', outcome: 'APPLIED' })]);
    expect([places.europe, places.partner].flatMap((place) => keysOf('home-deleted', place))).toEqual([]);
    expect((await registry.get('home-deleted'))?.state).toBe('REVOKED');
  });

  it('finishes a crashed three-place create whose keys share one value, recording every place', async () => {
    // Prepare
    await deadThreePlaceClaim('crashed-whole');
    const value = keyValue();
    const left = {
      [places.home]: await byHand.createWebhookLikeKey(places.home, 'crashed-whole', value),
      [places.europe]: await byHand.createWebhookLikeKey(places.europe, 'crashed-whole', value),
      [places.partner]: await byHand.createWebhookLikeKey(places.partner, 'crashed-whole', value),
    };

    // Act
    const found = await auditOf('crashed-whole');
    const repaired = await auditOf('crashed-whole', true);

    // Assess
    expect(found.drift).toEqual([expect.objectContaining({ kind: 'STUCK_CLAIM', leftovers: Object.values(left).sort() })]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'FINISH_CLAIM', outcome: 'APPLIED', credentialId: left[places.home] })]);
    expect(await registry.get('crashed-whole')).toMatchObject({ state: 'ACTIVE', credentialId: left[places.home], placedIds: left });
    expect(controlPlane.usagePlanKeyIds(localPlaces.partner.usagePlanId, places.partner)).toContain(left[places.partner]);
    expect((await auditOf('crashed-whole')).drift).toEqual([]);
  });

  it('releases a crashed three-place create whose keys do not share one value, deleting each in its place', async () => {
    // Prepare
    await deadThreePlaceClaim('crashed-mixed');
    const value = keyValue();
    await byHand.createWebhookLikeKey(places.home, 'crashed-mixed', value);
    await byHand.createWebhookLikeKey(places.europe, 'crashed-mixed', value);
    await byHand.createWebhookLikeKey(places.partner, 'crashed-mixed', keyValue());

    // Act
    const repaired = await auditOf('crashed-mixed', true);

    // Assess
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'RELEASE_CLAIM', outcome: 'APPLIED' })]);
    expect([places.home, places.europe, places.partner].flatMap((place) => keysOf('crashed-mixed', place))).toEqual([]);
    expect((await registry.get('crashed-mixed'))?.state).toBe('REVOKED');
  });

  it('releases a crashed three-place create that left a place without its key', async () => {
    // Prepare
    await deadThreePlaceClaim('crashed-partial');
    const value = keyValue();
    await byHand.createWebhookLikeKey(places.home, 'crashed-partial', value);
    await byHand.createWebhookLikeKey(places.partner, 'crashed-partial', value);

    // Act
    const found = await auditOf('crashed-partial');
    const repaired = await auditOf('crashed-partial', true);

    // Assess
    expect(found.run.repairs).toEqual([]);
    expect(repaired.repairs).toEqual([expect.objectContaining({ action: 'RELEASE_CLAIM', outcome: 'APPLIED' })]);
    expect([places.home, places.europe, places.partner].flatMap((place) => keysOf('crashed-partial', place))).toEqual([]);
  });

  it('reconciles the API key gauge of a far place: a stray member goes, a live app missing from it is counted', async () => {
    // Prepare: the gauge counts an app that holds nothing there and misses one that does.
    await createEverywhere('gauged-app');
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: webhook.dynamoDbUrl }));
    afterAll(() => documents.destroy());
    const gauges = new CapacityGauges(documents, webhook.tableName);
    const partnerGauge = apiKeysGauge(parsePlaceId(places.partner));
    await gauges.reserve(partnerGauge, 'stray-app');
    await gauges.release(partnerGauge, 'gauged-app');

    // Act
    const { run } = await auditOf('gauged-app');

    // Assess: exactly the live records that place a key in the partner account.
    const live: string[] = [];
    for await (const page of registry.scan())
      for (const record of page)
        if (record.state !== 'REVOKED' && record.credentialType === 'API_KEY' && record.placedIds?.[places.partner]) live.push(record.appKey);
    const level = run.gauges.find((gauge) => gauge.quota === 'apiKeys' && gauge.place === places.partner);
    expect(level).toMatchObject({ reconciled: true, used: live.length, limit: 10_000 });
    expect(level?.removed).toBeGreaterThanOrEqual(1);
    const after = await gauges.snapshot(partnerGauge);
    expect(after.members.has(memberOf('stray-app'))).toBe(false);
    expect(after.members.has(memberOf('gauged-app'))).toBe(true);
    expect(after.count).toBe(live.length);
    expect(run.gauges.map((gauge) => gauge.place)).toEqual(expect.arrayContaining([places.home, places.europe, places.partner]));
  });
});
