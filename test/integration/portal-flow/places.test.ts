import { describe, expect, it } from 'vitest';
import { localPlaces } from '../../../local/local-webhook.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, exampleApiId, examplePlanId } from '../../helpers/portal.ts';

const { webhook, post, registry } = await startWebhookForTests();
const { controlPlane } = webhook;

const home = '000000000000/us-east-1';
const europe = `${localPlaces.europe.account}/${localPlaces.europe.region}`;
const partner = `${localPlaces.partner.account}/${localPlaces.partner.region}`;
const partnerRole = `arn:aws:iam::${localPlaces.partner.account}:role/portal-credentials-target`;

const homeApi = { id: exampleApiId, usagePlans: [{ id: examplePlanId }] };
const europeApi = { id: localPlaces.europe.apiId, usagePlans: [{ id: localPlaces.europe.usagePlanId }] };
const partnerApi = { id: localPlaces.partner.apiId, usagePlans: [{ id: localPlaces.partner.usagePlanId }] };

const keysOf = (appSlug: string, place: string) => controlPlane.apiKeys(place).filter((key) => key.name === `portal-${appSlug}`);

describe('API keys for APIs in two Regions and two accounts', () => {
  it('creates one key in every place the APIs live, all with the one value the portal is answered, each in its own plans', async () => {
    // Act
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'three-places', apis: [homeApi, europeApi, partnerApi] }));

    // Assess
    expect(created.status).toBe(200);
    const { apiKeyId, apiKey } = created.json;
    const [atHome] = keysOf('three-places', home);
    const [inEurope] = keysOf('three-places', europe);
    const [atPartner] = keysOf('three-places', partner);
    expect(atHome).toMatchObject({ id: apiKeyId, value: apiKey, enabled: true });
    expect(inEurope?.value).toBe(apiKey);
    expect(atPartner?.value).toBe(apiKey);
    expect(controlPlane.usagePlanKeyIds(examplePlanId, home)).toEqual([apiKeyId]);
    expect(controlPlane.usagePlanKeyIds(localPlaces.europe.usagePlanId, europe)).toEqual([inEurope?.id]);
    expect(controlPlane.usagePlanKeyIds(localPlaces.partner.usagePlanId, partner)).toEqual([atPartner?.id]);
    expect(await registry.get('three-places')).toMatchObject({
      credentialId: apiKeyId,
      usagePlanIds: [examplePlanId, `${europe}/${localPlaces.europe.usagePlanId}`, `${partner}/${localPlaces.partner.usagePlanId}`].sort(),
      placedIds: { [home]: apiKeyId, [europe]: inEurope?.id, [partner]: atPartner?.id },
    });
  });

  it('answers a repeated create with the same key and value, making nothing more anywhere', async () => {
    // Prepare
    const request = createRequest({ appSlug: 'repeated-places', apis: [europeApi, partnerApi] });
    const first = await post('/v1/createCredentials', request);

    // Act
    const again = await post('/v1/createCredentials', request);

    // Assess
    expect(again.json).toEqual(first.json);
    expect(
      [keysOf('repeated-places', home), keysOf('repeated-places', europe), keysOf('repeated-places', partner)].map((keys) => keys.length),
    ).toEqual([0, 1, 1]);
    // The answered id is the first place's key: here Europe's, as the webhook's own place holds none.
    expect(keysOf('repeated-places', europe)[0]?.id).toBe(first.json.apiKeyId);
  });

  it('updates across places: a place no longer asked for loses its key, a new one gets the same value', async () => {
    // Prepare
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'moving-places', apis: [homeApi, europeApi] }));
    const { apiKeyId, apiKey } = created.json;

    // Act
    const updated = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'moving-places', apis: [homeApi, partnerApi] }),
      credentialType: 'API_KEY',
      apiKeyId,
    });

    // Assess
    expect(updated.status).toBe(204);
    expect(keysOf('moving-places', europe)).toEqual([]);
    const [atPartner] = keysOf('moving-places', partner);
    expect(atPartner?.value).toBe(apiKey);
    expect(controlPlane.usagePlanKeyIds(localPlaces.partner.usagePlanId, partner)).toContain(atPartner?.id);
    expect((await registry.get('moving-places'))?.placedIds).toEqual({ [home]: apiKeyId, [partner]: atPartner?.id });
  });

  it('revokes by the answered id alone in every place the key lives', async () => {
    // Prepare
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'revoked-places', apis: [homeApi, europeApi, partnerApi] }));

    // Act
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: created.json.apiKeyId });

    // Assess
    expect(revoked.status).toBe(204);
    expect([home, europe, partner].flatMap((place) => keysOf('revoked-places', place))).toEqual([]);
  });

  it("assumes the partner account's role once for many calls: its credentials are kept for their lifetime", async () => {
    // Act
    for (const appSlug of ['cached-role-1', 'cached-role-2', 'cached-role-3']) {
      expect((await post('/v1/createCredentials', createRequest({ appSlug, apis: [partnerApi] }))).status).toBe(200);
    }

    // Assess: one container, one role session, whatever ran before in this file.
    expect(controlPlane.assumedRoleCalls(partnerRole)).toBe(1);
  });

  it('undoes every place when one refuses: no key is left anywhere, and the portal may retry', async () => {
    // Prepare
    controlPlane.injectFault('CreateUsagePlanKey', { kind: 'error', status: 400, errorType: 'BadRequestException', message: 'refused' }, 1, {
      place: partner,
    });

    // Act
    const refused = await post('/v1/createCredentials', createRequest({ appSlug: 'one-place-refuses', apis: [homeApi, europeApi, partnerApi] }));
    const retried = await post('/v1/createCredentials', createRequest({ appSlug: 'one-place-refuses', apis: [homeApi, europeApi, partnerApi] }));

    // Assess
    expect(refused.status).toBe(502);
    expect(retried.status).toBe(200);
    expect([home, europe, partner].map((place) => keysOf('one-place-refuses', place).length)).toEqual([1, 1, 1]);
  });
});
