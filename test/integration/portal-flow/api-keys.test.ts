import { describe, expect, it } from 'vitest';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest, withPlans } from '../../helpers/portal.ts';

const { webhook, post, get } = await startWebhookForTests();
const { controlPlane } = webhook;

const keysOf = (appSlug: string) => controlPlane.apiKeys().filter((key) => key.name === `portal-${appSlug}`);

describe('the portal flow for API keys, over HTTP against the local stand-ins', () => {
  it('creates, replays, updates, revokes and revokes again, leaving AWS as the portal asked', async () => {
    // Create: one enabled key, linked to the requested plan.
    const created = await post('/v1/createCredentials', createRequest());
    expect(created.status).toBe(200);
    const { apiKeyId, apiKey } = created.json;
    expect(keysOf('590d83b5c05f')).toEqual([expect.objectContaining({ id: apiKeyId, value: apiKey, enabled: true })]);
    expect(controlPlane.usagePlanKeyIds('1el57v')).toContain(apiKeyId);

    // Create again (the portal retried): the same credential, still one key.
    const replayed = await post('/v1/createCredentials', createRequest());
    expect(replayed.json).toEqual(created.json);
    expect(keysOf('590d83b5c05f')).toHaveLength(1);

    // Update: move from 1el57v to 2fm68w (one stage), and add 5ip91z (another stage).
    const updated = await post('/v1/updateCredentials', {
      ...createRequest({ apis: withPlans('2fm68w', '5ip91z') }),
      credentialType: 'API_KEY',
      apiKeyId,
    });
    expect(updated.status).toBe(204);
    expect(updated.text).toBe('');
    expect(controlPlane.usagePlanKeyIds('1el57v')).not.toContain(apiKeyId);
    expect(controlPlane.usagePlanKeyIds('2fm68w')).toContain(apiKeyId);
    expect(controlPlane.usagePlanKeyIds('5ip91z')).toContain(apiKeyId);

    // Revoke, then revoke again: the key is gone, and so are its links.
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId });
    const revokedAgain = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId });
    expect([revoked.status, revokedAgain.status]).toEqual([204, 204]);
    expect(keysOf('590d83b5c05f')).toHaveLength(0);
    expect(controlPlane.usagePlanKeyIds('2fm68w')).not.toContain(apiKeyId);
  });

  it('answers 422 for an unknown usage plan and leaves no key behind', async () => {
    // Act
    const response = await post('/v1/createCredentials', createRequest({ appSlug: 'unknown-plan-app', apis: withPlans('1el57v', 'nope42') }));

    // Assess
    expect(response.status).toBe(422);
    expect(response.json).toEqual({ code: 'UNKNOWN_USAGE_PLAN', message: 'Usage plan nope42 does not exist in this deployment.' });
    expect(keysOf('unknown-plan-app')).toHaveLength(0);
    expect(controlPlane.usagePlanKeyIds('1el57v')).toHaveLength(0);

    // A corrected retry then succeeds: the failed attempt left no claim behind.
    const retried = await post('/v1/createCredentials', createRequest({ appSlug: 'unknown-plan-app' }));
    expect(retried.status).toBe(200);
  });

  it('answers concurrent creates for one app with one key', async () => {
    // Act
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('/v1/createCredentials', createRequest({ appSlug: 'double-click' }))));

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(keysOf('double-click')).toHaveLength(1);
  });

  it('finds the credential by slug when update and revoke carry no id', async () => {
    // Prepare
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'by-slug' }));

    // Act
    const updated = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'by-slug', apis: withPlans('3gn79x') }),
      credentialType: 'API_KEY',
    });
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', appSlug: 'by-slug' });

    // Assess
    expect([updated.status, revoked.status]).toEqual([204, 204]);
    expect(controlPlane.apiKeys().some((key) => key.id === json.apiKeyId)).toBe(false);
  });

  it('refuses to update or revoke an API key it did not create', async () => {
    // Prepare: a key someone made by hand in the same account.
    const { APIGatewayClient, CreateApiKeyCommand } = await import('@aws-sdk/client-api-gateway');
    const foreign = await new APIGatewayClient({ endpoint: controlPlane.url }).send(new CreateApiKeyCommand({ name: 'hand-made', enabled: true }));

    // Act
    const updated = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'hand-made' }),
      credentialType: 'API_KEY',
      apiKeyId: foreign.id,
    });
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'API_KEY', apiKeyId: foreign.id });

    // Assess
    expect(updated.status).toBe(404);
    expect(revoked.status).toBe(204);
    expect(controlPlane.apiKeys().some((key) => key.id === foreign.id)).toBe(true);
  });

  it('answers health with 204 for the portal and 401 for anyone else', async () => {
    // Act
    const healthy = await get('/v1/health');
    const anonymous = await get('/v1/health', { authorization: null });

    // Assess
    expect(healthy.status).toBe(204);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  });

  it('refuses bodies that are too large, not JSON or not declared as JSON, in the contract body', async () => {
    // Act
    const tooLarge = await post('/v1/createCredentials', { ...createRequest(), padding: 'x'.repeat(70_000) });
    const malformed = await post('/v1/createCredentials', '{"appName": ');
    const notJson = await post('/v1/createCredentials', 'appName=x', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });

    // Assess
    expect([tooLarge.status, malformed.status, notJson.status]).toEqual([413, 400, 415]);
    expect([tooLarge.json.code, malformed.json.code, notJson.json.code]).toEqual(['PAYLOAD_TOO_LARGE', 'MALFORMED_JSON', 'UNSUPPORTED_MEDIA_TYPE']);
  });
});
