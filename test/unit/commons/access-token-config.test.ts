import { describe, expect, it } from 'vitest';
import { jwksUrlProblem, loadConfig } from '#commons/config';

/** The `jwt` scheme's settings at cold start: where signing keys may come from, and how long a token may live. */

const jwt = { REGISTRY_TABLE_NAME: 'registry', BASIC_AUTH_SECRET_ID: 'secret', AUTH_SCHEMES: 'jwt', JWT_AUDIENCES: 'webhook' };

describe('the JWKS URL at cold start', () => {
  it.each([
    ['an https issuer, the URL defaulting under it', { JWT_ISSUER: 'https://issuer.example.com/' }],
    ['an https JWKS URL', { JWT_ISSUER: 'http://issuer.example.com/', JWT_JWKS_URL: 'https://keys.example.com/jwks' }],
    ['plain http to 127.0.0.1 (a local run)', { JWT_ISSUER: 'http://127.0.0.1:4000/pool' }],
    ['plain http to another 127/8 address', { JWT_ISSUER: 'https://issuer.example.com', JWT_JWKS_URL: 'http://127.12.0.9/jwks' }],
    ['plain http to localhost', { JWT_ISSUER: 'https://issuer.example.com', JWT_JWKS_URL: 'http://localhost:8080/jwks' }],
    ['plain http to [::1]', { JWT_ISSUER: 'https://issuer.example.com', JWT_JWKS_URL: 'http://[::1]:8080/jwks' }],
  ])('is accepted from %s', (_name, variables) => {
    // Act
    const config = loadConfig({ ...jwt, ...variables });

    // Assess
    expect(config.authentication.accessTokens?.jwksUrl).toMatch(/^https?:\/\//);
  });

  it.each([
    [
      'a plain-http JWKS URL',
      { JWT_ISSUER: 'https://issuer.example.com', JWT_JWKS_URL: 'http://issuer.example.com/jwks' },
      /JWT_JWKS_URL must use https/,
    ],
    ['a plain-http issuer the URL defaults from', { JWT_ISSUER: 'http://issuer.example.com/' }, /JWT_JWKS_URL \(from JWT_ISSUER.*must use https/],
    [
      'plain http to a host named like loopback',
      { JWT_ISSUER: 'https://i.example', JWT_JWKS_URL: 'http://127.0.0.1.example.com/jwks' },
      /must use https/,
    ],
    ['plain http to a private address', { JWT_ISSUER: 'https://i.example', JWT_JWKS_URL: 'http://10.0.0.5/jwks' }, /must use https/],
    ['another protocol', { JWT_ISSUER: 'https://i.example', JWT_JWKS_URL: 'ftp://issuer.example.com/jwks' }, /must use https/],
  ])('fails the cold start for %s', (_name, variables, message) => {
    // Act + Assess
    expect(() => loadConfig({ ...jwt, ...variables })).toThrow(message);
  });

  it('allows no plain http at all where loopback is not allowed (synth)', () => {
    // Act + Assess
    expect(jwksUrlProblem('http://127.0.0.1/jwks', { allowLoopbackHttp: false })).toBe('must use https');
    expect(jwksUrlProblem('https://issuer.example.com/jwks', { allowLoopbackHttp: false })).toBeUndefined();
  });
});

describe('the maximum token age at cold start', () => {
  it('defaults to a day and takes JWT_MAX_TOKEN_AGE_SECONDS', () => {
    // Act
    const byDefault = loadConfig({ ...jwt, JWT_ISSUER: 'https://issuer.example.com' });
    const set = loadConfig({ ...jwt, JWT_ISSUER: 'https://issuer.example.com', JWT_MAX_TOKEN_AGE_SECONDS: '3600' });

    // Assess
    expect(byDefault.authentication.accessTokens?.maxTokenAgeSeconds).toBe(86_400);
    expect(set.authentication.accessTokens?.maxTokenAgeSeconds).toBe(3_600);
  });

  it.each(['0', '59', '2592001', 'a day', '3600.5'])('fails the cold start for JWT_MAX_TOKEN_AGE_SECONDS=%s', (value) => {
    // Act + Assess
    expect(() => loadConfig({ ...jwt, JWT_ISSUER: 'https://issuer.example.com', JWT_MAX_TOKEN_AGE_SECONDS: value })).toThrow(
      /JWT_MAX_TOKEN_AGE_SECONDS/,
    );
  });
});
