import { afterAll, describe, expect, it } from 'vitest';
import { type AccessTokenSettings, accessTokenVerifier } from '#http/authentication/access-tokens';
import { issuerKey, startTokenIssuer } from '../../../helpers/token-issuer.ts';

/**
 * The `jwt` verifier on its own, for settings the handler tests do not run with: an
 * issuer trusted for named clients only (no audience), as for the stack's own pool.
 */

const issuer = await startTokenIssuer('https://issuer.example.com/');
afterAll(() => issuer.close());
const key = await issuerKey('key-1');
issuer.publish(key);

const settings = (overrides: Partial<AccessTokenSettings> = {}): AccessTokenSettings => ({
  issuer: issuer.issuer,
  jwksUrl: issuer.jwksUrl,
  audiences: [],
  clientIds: ['caller-app'],
  scope: 'webhook/invoke',
  jwksCacheSeconds: 60,
  ...overrides,
});

describe('accessTokenVerifier with client ids and no audiences', () => {
  const verify = accessTokenVerifier(settings());

  it.each(['client_id', 'azp', 'cid', 'appid'])('accepts a token naming an accepted client in %s', async (claim) => {
    // Prepare
    const token = await issuer.mint(key, { client_id: undefined, [claim]: 'caller-app' });

    // Act
    const outcome = await verify(token);

    // Assess
    expect(outcome).toEqual({ valid: true, principal: 'caller-app', scopes: ['webhook/invoke'] });
  });

  it.each([
    ['no client-id claim at all', { client_id: undefined }],
    ['no client-id claim, though its subject is an accepted client', { client_id: undefined, sub: 'caller-app' }],
    ['no client-id claim, though its audience is an accepted client', { client_id: undefined, aud: 'caller-app' }],
    ['another client', { client_id: 'other-app' }],
    ['a client id that only starts with an accepted one', { client_id: 'caller-app-2' }],
    ['a client id that is not a string', { client_id: ['caller-app'] }],
  ])('refuses a token with %s', async (_name, claims) => {
    // Prepare
    const token = await issuer.mint(key, claims);

    // Act
    const outcome = await verify(token);

    // Assess
    expect(outcome).toEqual({ valid: false, reason: 'issued to another client' });
  });
});
