import { afterAll, describe, expect, it } from 'vitest';
import { type AccessTokenSettings, accessTokenVerifier, clockSkewSeconds } from '#http/authentication/access-tokens';
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
  maxTokenAgeSeconds: 86_400,
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

describe('accessTokenVerifier on when a token was issued and how long it lives', () => {
  const verify = accessTokenVerifier(settings({ maxTokenAgeSeconds: 3_600 }));
  const now = () => Math.floor(Date.now() / 1000);
  const day = 86_400;

  it.each([
    ['issued now, for the maximum age', () => ({ iat: now(), exp: now() + 3_600 })],
    ['issued within the clock skew ahead of this clock', () => ({ iat: now() + clockSkewSeconds - 5, exp: now() + 600 })],
    ['without iat, expiring within the maximum age', () => ({ iat: undefined, exp: now() + 3_000 })],
    ['issued long ago and nearly expired, within the maximum age', () => ({ iat: now() - 3_500, exp: now() + 100 })],
  ])('accepts a token %s', async (_name, claims) => {
    // Act
    const outcome = await verify(await issuer.mint(key, claims()));

    // Assess
    expect(outcome).toMatchObject({ valid: true });
  });

  it.each([
    ['issued a day in the future', () => ({ iat: now() + day, exp: now() + day + 300 }), 'issued in the future'],
    ['issued beyond the clock skew ahead', () => ({ iat: now() + clockSkewSeconds + 30, exp: now() + 600 }), 'issued in the future'],
    ['expiring ten years ahead', () => ({ iat: now(), exp: now() + 3_650 * day }), 'lives longer than the maximum token age'],
    ['living one second longer than the maximum age', () => ({ iat: now() - 10, exp: now() + 3_591 }), 'lives longer than the maximum token age'],
    ['without iat, expiring beyond the maximum age', () => ({ iat: undefined, exp: now() + 3_700 }), 'lives longer than the maximum token age'],
  ])('refuses a token %s', async (_name, claims, reason) => {
    // Act
    const outcome = await verify(await issuer.mint(key, claims()));

    // Assess
    expect(outcome).toEqual({ valid: false, reason });
  });
});

describe('accessTokenVerifier on the typ header', () => {
  const verify = accessTokenVerifier(settings());

  it.each([['at+jwt'], ['application/at+jwt'], ['AT+JWT'], ['JWT'], [undefined]])('accepts typ %s', async (typ) => {
    // Act
    const outcome = await verify(await issuer.mint(key, {}, typ === undefined ? {} : { typ }));

    // Assess
    expect(outcome).toMatchObject({ valid: true });
  });

  it.each([['dpop+jwt'], ['logout+jwt'], ['secevent+jwt'], ['id_token'], ['at+jwt; x'], [42]])(
    'refuses typ %s as another kind of token',
    async (typ) => {
      // Act
      const outcome = await verify(await issuer.mint(key, {}, { typ }));

      // Assess
      expect(outcome).toEqual({ valid: false, reason: 'not an access token (typ)' });
    },
  );
});
