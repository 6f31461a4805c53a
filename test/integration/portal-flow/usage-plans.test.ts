import { describe, expect, it } from 'vitest';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, exampleApiId, withPlans } from '../../helpers/portal.ts';

// The seed: 1el57v and 2fm68w serve 5aba4csvd4/prod, 5ip91z serves 5aba4csvd4/sandbox,
// 4ho80y serves the Payments API (q8w2e4r6t1), which the local policy reserves for client credentials.
const { webhook, registry, post } = await startWebhookForTests();
const { controlPlane } = webhook;

const keysOf = (appSlug: string) => controlPlane.apiKeys().filter((key) => key.name === `portal-${appSlug}`);
const plansOf = (keyId: string) =>
  ['1el57v', '2fm68w', '3gn79x', '4ho80y', '5ip91z'].filter((plan) => controlPlane.usagePlanKeyIds(plan).includes(keyId));
const update = (appSlug: string, apiKeyId: string, apis: ReturnType<typeof withPlans>) =>
  post('/v1/updateCredentials', { ...createRequest({ appSlug, apis }), credentialType: 'API_KEY', apiKeyId });

describe('usage plans that know their APIs, over HTTP against the local stand-ins', () => {
  it('moves a key between two plans of one API stage (the example of docs/portal-administrators.md, "Try it by hand") and answers 204', async () => {
    // Prepare
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'mover', apis: withPlans('1el57v') }));

    // Act
    const moved = await update('mover', json.apiKeyId, withPlans('2fm68w'));

    // Assess
    expect(moved.status).toBe(204);
    expect(plansOf(json.apiKeyId)).toEqual(['2fm68w']);
    expect((await registry.get('mover'))?.usagePlanIds).toEqual(['2fm68w']);
  });

  it('moves one stage and keeps another in a single update', async () => {
    // Prepare
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'two-stages', apis: withPlans('1el57v', '5ip91z') }));

    // Act
    const moved = await update('two-stages', json.apiKeyId, withPlans('2fm68w', '5ip91z'));

    // Assess
    expect(moved.status).toBe(204);
    expect(plansOf(json.apiKeyId)).toEqual(['2fm68w', '5ip91z']);
  });

  it('refuses with 422 a create naming two plans of one stage, and makes nothing', async () => {
    // Prepare
    const createsBefore = controlPlane.calls().CreateApiKey ?? 0;

    // Act
    const response = await post('/v1/createCredentials', createRequest({ appSlug: 'two-plans-one-stage', apis: withPlans('1el57v', '2fm68w') }));

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('USAGE_PLANS_SHARE_STAGE');
    expect(response.json.message).toMatch(/1el57v.*2fm68w.*5aba4csvd4\/prod/);
    expect(controlPlane.calls().CreateApiKey ?? 0).toBe(createsBefore);
    expect(keysOf('two-plans-one-stage')).toHaveLength(0);
    expect(await registry.get('two-plans-one-stage')).toBeUndefined();
  });

  it('refuses with 422 an update naming two plans of one stage, and leaves the links as they were', async () => {
    // Prepare
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'update-two-plans', apis: withPlans('1el57v') }));

    // Act
    const response = await update('update-two-plans', json.apiKeyId, withPlans('2fm68w', '3gn79x'));

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('USAGE_PLANS_SHARE_STAGE');
    expect(plansOf(json.apiKeyId)).toEqual(['1el57v']);
  });

  it('refuses with 422 a plan of the client-credentials Payments API listed under the API-key API, on create and update', async () => {
    // Prepare
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'hole-update', apis: withPlans('1el57v') }));
    const hole = [{ id: exampleApiId, usagePlans: [{ id: '4ho80y' }] }];

    // Act
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'hole-create', apis: hole }));
    const updated = await update('hole-update', json.apiKeyId, hole);

    // Assess
    expect([created.status, updated.status]).toEqual([422, 422]);
    expect(created.json).toEqual({ code: 'USAGE_PLAN_NOT_FOR_API', message: expect.stringMatching(/4ho80y.*5aba4csvd4/) });
    expect(updated.json.code).toBe('USAGE_PLAN_NOT_FOR_API');
    expect(keysOf('hole-create')).toHaveLength(0);
    expect(controlPlane.usagePlanKeyIds('4ho80y')).toEqual([]);
    expect(plansOf(json.apiKeyId)).toEqual(['1el57v']);
  });

  it.each(['zzzzzzzzzz', 'constructor', '__proto__', 'toString'])('refuses with 422 the unknown API id %s, and stores nothing', async (apiId) => {
    // Act
    const appSlug = `unknown-api-${apiId.replace(/_/g, '')}`;
    const response = await post('/v1/createCredentials', createRequest({ appSlug, apis: [{ id: apiId, usagePlans: [{ id: '1el57v' }] }] }));

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('USAGE_PLAN_NOT_FOR_API');
    expect(response.json.message).toContain(apiId);
    expect(keysOf(appSlug)).toHaveLength(0);
    expect(await registry.get(appSlug)).toBeUndefined();
  });
});
