import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { apiKeysGauge, appClientsGauge, CapacityGauges, type Gauge, gaugeKey, memberOf } from '#provisioning/capacity';
import { localPlaces } from '../../../local/local-webhook.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, exampleApiId, examplePlanId } from '../../helpers/portal.ts';

// A pool of three app clients, so that its quota can be reached in a test.
const { webhook, post, registry } = await startWebhookForTests({ environment: { APP_CLIENTS_QUOTA: '3' } });
const { controlPlane } = webhook;
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: webhook.dynamoDbUrl }));
afterAll(() => documents.destroy());
const gauges = new CapacityGauges(documents, webhook.tableName);

const europe = { account: localPlaces.europe.account, region: localPlaces.europe.region };
const partner = { account: localPlaces.partner.account, region: localPlaces.partner.region };
const homeApi = { id: exampleApiId, usagePlans: [{ id: examplePlanId }] };
const europeApi = { id: localPlaces.europe.apiId, usagePlans: [{ id: localPlaces.europe.usagePlanId }] };
const partnerApi = { id: localPlaces.partner.apiId, usagePlans: [{ id: localPlaces.partner.usagePlanId }] };
const paymentsApi = { id: 'q8w2e4r6t1', usagePlans: [] };

const keysNamed = (appSlug: string, place: { account: string; region: string }) =>
  controlPlane.apiKeys(`${place.account}/${place.region}`).filter((key) => key.name === `portal-${appSlug}`);

/** Fills a gauge to its limit, as 10,000 other apps' keys in a Region would (their members stand for them). */
const fill = async (gauge: Gauge) => {
  const members = new Set(Array.from({ length: gauge.limit }, (_, app) => memberOf(`filler-${app}`)));
  await documents.send(
    new PutCommand({
      TableName: webhook.tableName,
      Item: { appKey: gaugeKey(gauge), quota: gauge.quota, place: gauge.place, members, count: gauge.limit, version: 1 },
    }),
  );
};

describe('capacity seen before it runs out', () => {
  it('counts a key in each place it lives, and gives each place back when the key is revoked', async () => {
    // Prepare
    const before = await gauges.level(apiKeysGauge(partner));

    // Act
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'counted-app', apis: [homeApi, partnerApi] }));
    const whileLive = await gauges.level(apiKeysGauge(partner));
    await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: created.json.apiKeyId });

    // Assess
    expect(whileLive.used).toBe(before.used + 1);
    expect((await gauges.level(apiKeysGauge(partner))).used).toBe(before.used);
  });

  it('moves the count with an update that moves the key between places', async () => {
    // Prepare
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'moving-count', apis: [homeApi, europeApi] }));
    const [europeBefore, partnerBefore] = await Promise.all([gauges.level(apiKeysGauge(europe)), gauges.level(apiKeysGauge(partner))]);

    // Act
    await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'moving-count', apis: [homeApi, partnerApi] }),
      credentialType: 'API_KEY',
      apiKeyId: created.json.apiKeyId,
    });

    // Assess
    expect((await gauges.level(apiKeysGauge(europe))).used).toBe(europeBefore.used - 1);
    expect((await gauges.level(apiKeysGauge(partner))).used).toBe(partnerBefore.used + 1);
  });

  it('answers 503 QUOTA_EXCEEDED naming the full Region before anything is made in any place', async () => {
    // Prepare
    await fill(apiKeysGauge(europe));

    // Act
    const refused = await post('/v1/createCredentials', createRequest({ appSlug: 'europe-is-full', apis: [homeApi, europeApi, partnerApi] }));

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/^API keys in account 000000000000, Region eu-west-1: 10,000 of 10,000 in use/),
    });
    expect([
      keysNamed('europe-is-full', { account: '000000000000', region: 'us-east-1' }),
      keysNamed('europe-is-full', europe),
      keysNamed('europe-is-full', partner),
    ]).toEqual([[], [], []]);
    expect(await registry.get('europe-is-full')).toBeUndefined();
    // What the refused call booked elsewhere is given back.
    const partnerGauge = await gauges.snapshot(apiKeysGauge(partner));
    expect(partnerGauge.count).toBe(partnerGauge.members.size);
  });

  it("answers 503 QUOTA_EXCEEDED when the pool's configured quota of app clients is reached, making no client", async () => {
    // Prepare: three clients, the pool's quota here.
    for (const appSlug of ['client-1', 'client-2', 'client-3']) {
      expect((await post('/v1/createCredentials', createRequest({ appSlug, apis: [paymentsApi] }))).status).toBe(200);
    }

    // Act
    const refused = await post('/v1/createCredentials', createRequest({ appSlug: 'client-4', apis: [paymentsApi] }));

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('QUOTA_EXCEEDED');
    expect(refused.json.message).toMatch(/^App clients in user pool .+: 3 of 3 in use/);
    expect((await gauges.level(appClientsGauge(webhook.cognito.userPoolId, 3))).used).toBe(3);
    expect(await registry.get('client-4')).toBeUndefined();
  });
});
