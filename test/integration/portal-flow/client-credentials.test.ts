import { CognitoIdentityProviderClient, DescribeUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { InvalidClientError, fetchClientCredentialsToken } from '../../../tools/token-client.ts';
import { startWebhookForTests } from '../../helpers/local-webhook.ts';
import { createRequest } from '../../helpers/portal.ts';

const { webhook, post } = await startWebhookForTests({
  credentialPolicy: {
    defaultType: 'API_KEY',
    apis: {
      q8w2e4r6t1: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read'] },
      z9x8c7v6b5: { type: 'CLIENT_CREDENTIALS', scopes: ['payments/read', 'refunds/write'] },
      nosc0pes01: { type: 'CLIENT_CREDENTIALS' },
    },
  },
});
const jwks = createRemoteJWKSet(new URL(webhook.cognito.jwksUrl));
const cognito = new CognitoIdentityProviderClient({ endpoint: webhook.cognito.url });

const apis = (...ids: string[]) => ids.map((id) => ({ id, usagePlans: [] }));

/** The token's scopes, after checking its signature against the JWKS. */
const verifiedScopes = async (accessToken: string) => {
  const { payload } = await jwtVerify(accessToken, jwks, { issuer: webhook.cognito.issuer });
  return String(payload.scope).split(' ').sort();
};

describe('the portal flow for client credentials, over HTTP against the local stand-ins', () => {
  it('creates a client, whose tokens carry the scopes; updates them; revokes it, after which no token is issued', async () => {
    // Create: a Cognito app client with the scopes of the requested API, and how to get a token.
    const created = await post('/v1/createCredentials', createRequest({ appSlug: 'cc-app', apis: apis('q8w2e4r6t1') }));
    expect(created.status).toBe(200);
    const { clientId, clientSecret, customCredentials } = created.json;
    expect(customCredentials).toEqual({
      tokenUrl: webhook.cognito.tokenUrl,
      scopes: ['payments/read'],
      grantType: 'client_credentials',
      tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
    });

    // Create again: the same client and secret.
    const replayed = await post('/v1/createCredentials', createRequest({ appSlug: 'cc-app', apis: apis('q8w2e4r6t1') }));
    expect(replayed.json).toEqual(created.json);

    // Tokens with both client authentication methods, verified against the JWKS.
    const credentials = { tokenUrl: customCredentials.tokenUrl, clientId, clientSecret };
    const basic = await fetchClientCredentialsToken({ ...credentials, authMethod: 'client_secret_basic' });
    const posted = await fetchClientCredentialsToken({ ...credentials, authMethod: 'client_secret_post' });
    expect(await verifiedScopes(basic.accessToken)).toEqual(['payments/read']);
    expect(await verifiedScopes(posted.accessToken)).toEqual(['payments/read']);

    // Update to an API that needs more scopes: new tokens carry them.
    const updated = await post('/v1/updateCredentials', {
      ...createRequest({ appSlug: 'cc-app', apis: apis('z9x8c7v6b5') }),
      credentialType: 'CLIENT_CREDENTIALS',
      clientId,
    });
    expect(updated.status).toBe(204);
    const widened = await fetchClientCredentialsToken(credentials);
    expect(await verifiedScopes(widened.accessToken)).toEqual(['payments/read', 'refunds/write']);

    // Revoke twice; then the token endpoint refuses the client.
    const revoked = await post('/v1/revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', clientId });
    const revokedAgain = await post('/v1/revokeCredentials', { credentialType: 'CLIENT_CREDENTIALS', clientId });
    expect([revoked.status, revokedAgain.status]).toEqual([204, 204]);
    await expect(fetchClientCredentialsToken(credentials)).rejects.toBeInstanceOf(InvalidClientError);
  });

  it('keeps the client configured for machine-to-machine use only', async () => {
    // Act
    const { json } = await post('/v1/createCredentials', createRequest({ appSlug: 'cc-config', apis: apis('q8w2e4r6t1') }));
    const { UserPoolClient } = await cognito.send(
      new DescribeUserPoolClientCommand({ UserPoolId: webhook.cognito.userPoolId, ClientId: json.clientId }),
    );

    // Assess
    expect(UserPoolClient).toMatchObject({
      // Marked with the local deployment's id: '@' and 8 hex digits of SHA-256('local').
      ClientName: 'portal-cc-config@25bf8e1a',
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    expect(json.clientSecret).toBe(UserPoolClient?.ClientSecret);
  });

  it('refuses with 422 a request mixing API-key and client-credential APIs, saying which needs which', async () => {
    // Act
    const response = await post(
      '/v1/createCredentials',
      createRequest({ appSlug: 'cc-mixed', apis: [{ id: '5aba4csvd4', usagePlans: [{ id: '1el57v' }] }, ...apis('q8w2e4r6t1')] }),
    );

    // Assess
    expect(response.status).toBe(422);
    expect(response.json.code).toBe('MIXED_CREDENTIAL_TYPES');
    expect(response.json.message).toContain('5aba4csvd4 needs API_KEY, q8w2e4r6t1 needs CLIENT_CREDENTIALS');
  });

  it('refuses with 422 an API with no scopes configured, creating nothing', async () => {
    // Act
    const response = await post('/v1/createCredentials', createRequest({ appSlug: 'cc-noscopes', apis: apis('nosc0pes01') }));

    // Assess
    expect(response.status).toBe(422);
    expect(response.json).toEqual({ code: 'API_NOT_CONFIGURED', message: expect.stringContaining('nosc0pes01') });
  });
});
