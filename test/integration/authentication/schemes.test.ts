import { CognitoIdentityProviderClient, CreateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { describe, expect, it } from 'vitest';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest } from '../../helpers/portal.ts';

/**
 * The local webhook with every function-side scheme enabled, as `npm start` runs it with
 * AUTH_SCHEMES: a caller fetches its token from the local token endpoint with client
 * credentials, as it would from the stack's Cognito domain, and calls the webhook with it.
 */

const bearerToken = { id: 'coviu', token: 'integration-static-bearer-token-0123456789' };
const apiKey = { id: 'webex', key: 'integration-api-key-value-0123456789abcdef' };
const { webhook, get, post } = await startWebhookForTests({
  bearerTokens: [bearerToken],
  apiKeys: [apiKey],
  environment: { AUTH_SCHEMES: 'basic,bearer,apiKey,jwt' },
});

const fetchToken = async (clientId: string, clientSecret: string, scope: string) => {
  const response = await fetch(webhook.cognito.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
};

describe('authentication schemes of the local webhook', () => {
  it('provisions for a caller holding a webhook/invoke token from the token endpoint', async () => {
    // Prepare
    const token = await fetchToken(webhook.caller.clientId, webhook.caller.clientSecret, 'webhook/invoke');

    // Act
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'jwt-caller-app' }), { authorization: `Bearer ${token}` });

    // Assess
    expect(created.status).toBe(200);
    expect(created.json.credentialType).toBe('API_KEY');
  });

  it.each([
    ['a static bearer token', { authorization: `Bearer ${bearerToken.token}` }],
    ['an API key', { authorization: null, headers: { 'X-Webhook-Key': apiKey.key } }],
  ])('accepts %s from the secret', async (_name, init) => {
    // Act
    const response = await get('/v1/health', init);

    // Assess
    expect(response.status).toBe(204);
  });

  it("refuses a token the pool issued to another of its clients: only the webhook's caller client is accepted", async () => {
    // Prepare
    const admin = new CognitoIdentityProviderClient({
      endpoint: webhook.cognito.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { UserPoolClient: other } = await admin.send(
      new CreateUserPoolClientCommand({
        UserPoolId: webhook.cognito.userPoolId,
        ClientName: 'other-app',
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['payments/read'],
      }),
    );
    admin.destroy();
    const token = await fetchToken(other?.ClientId as string, other?.ClientSecret as string, 'payments/read');

    // Act
    const response = await post('/v1/createCredentials', createRequest({ appSlug: 'other-client-app' }), { authorization: `Bearer ${token}` });

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers two credentials in one request with 400 and error="invalid_request", over HTTP as on AWS', async () => {
    // Act
    const response = await get('/v1/health', { authorization: `Bearer ${bearerToken.token}`, headers: { 'X-Webhook-Key': apiKey.key } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ code: 'AMBIGUOUS_CREDENTIALS', message: expect.any(String) });
    expect(response.headers.get('www-authenticate')).toContain('Bearer realm="portal-credentials-webhook", error="invalid_request"');
  });

  it('refuses a request without credentials with a challenge for each scheme', async () => {
    // Act
    const response = await get('/v1/health', { authorization: null });

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Basic realm="portal-credentials-webhook", charset="UTF-8", Bearer realm=.*, ApiKey realm=.*header="X-Webhook-Key"$/,
    );
  });
});
