import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { aws, resetAwsMocks } from '../../../helpers/aws-mocks.ts';
import { expectResponseMatchesOpenApi } from '../../../helpers/openapi.ts';
import { basic, createRequest, lambdaContext, portalUser, proxyEvent } from '../../../helpers/portal.ts';
import { issuerKey, startTokenIssuer, unsecuredToken } from '../../../helpers/token-issuer.ts';

// The request's log line is part of what is checked. Set before any import: the helpers'
// imports already create the functions' logger, which keeps the level it starts with.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

/**
 * A deployment that enables every function-side scheme at once (Basic, static bearer
 * tokens, an API-key header, OAuth access tokens of one issuer), driven through the real
 * handlers: what each scheme accepts, what it refuses and how, and that a refused
 * request never reaches provisioning.
 */

const issuer = await startTokenIssuer('https://issuer.example.com/');
afterAll(() => issuer.close());
const [currentKey, nextKey, strangerKey] = await Promise.all([
  issuerKey('key-2026-01'),
  issuerKey('key-2026-07', 'ES256'),
  issuerKey('not-published'),
]);

Object.assign(process.env, {
  AUTH_SCHEMES: 'basic,bearer,apiKey,jwt',
  API_KEY_HEADER: 'X-Webhook-Key',
  JWT_ISSUER: issuer.issuer,
  JWT_JWKS_URL: issuer.jwksUrl,
  JWT_AUDIENCES: 'portal-webhook',
  JWT_JWKS_CACHE_SECONDS: '60',
});
// Loaded only now: their cold start reads the environment above.
const { handler: create } = await import('../../../../lambda/handlers/create-credentials.ts');
const { handler: health } = await import('../../../../lambda/handlers/health.ts');

const staticToken = { id: 'coviu-prod', token: 'c0v1u-static-bearer-token-0123456789abcdef' };
const apiKey = { id: 'webex-connect', key: 'w3b3x-api-key-value-0123456789abcdefghij' };
const secretWith = (sets: Record<string, unknown>) => ({ SecretString: JSON.stringify(sets) });
const allSets = { basic: [portalUser], bearerTokens: [staticToken], apiKeys: [apiKey] };

const mint = (claims: Record<string, unknown> = {}, key = currentKey) => issuer.mint(key, { aud: 'portal-webhook', ...claims });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const withoutAuthorization = (headers: Record<string, string>) => ({ headers: { 'Content-Type': 'application/json', ...headers } });

/** A request with exactly these credential headers (the portal's default Basic header removed). */
const request = (headers: Record<string, string>, route: 'health' | 'create' = 'health'): APIGatewayProxyEvent => {
  const event = route === 'health' ? proxyEvent({ method: 'GET', path: '/v1/health' }) : proxyEvent({ body: createRequest() });
  const { headers: all } = withoutAuthorization(headers);
  return { ...event, headers: all, multiValueHeaders: Object.fromEntries(Object.entries(all).map(([name, value]) => [name, [value]])) };
};

/** Every line the functions log, parsed. */
let logLines: Record<string, unknown>[] = [];
const stdoutSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
  for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
  return true;
});
afterAll(() => stdoutSpy.mockRestore());
const finishedLines = () => logLines.filter((line) => line.message === 'Request finished');

const expectRefused = (response: APIGatewayProxyResult, status: 401 | 403, method: 'GET' | 'POST', path: string) => {
  expect(response.statusCode).toBe(status);
  expect(JSON.parse(response.body)).toEqual({ code: status === 401 ? 'UNAUTHORIZED' : 'INSUFFICIENT_SCOPE', message: expect.any(String) });
  expectResponseMatchesOpenApi(method, path, response);
  expect(aws.apiGateway.calls()).toHaveLength(0);
  expect(aws.dynamodb.calls()).toHaveLength(0);
};

beforeEach(() => {
  resetAwsMocks();
  aws.secrets.on(GetSecretValueCommand).resolves(secretWith(allSets));
  issuer.publish(currentKey);
  issuer.state.failing = false;
  logLines = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a deployment accepting Basic, bearer tokens, an API-key header and OAuth access tokens', () => {
  it.each([
    ['Basic', () => ({ Authorization: basic(portalUser.username, portalUser.password) }), { scheme: 'basic', principal: portalUser.username }],
    ['a static bearer token', () => bearer(staticToken.token), { scheme: 'bearer', principal: staticToken.id }],
    [
      'a static bearer token, scheme in lower case and two spaces',
      () => ({ Authorization: `bearer  ${staticToken.token}` }),
      { scheme: 'bearer', principal: staticToken.id },
    ],
    ['the API-key header, its name in any case', () => ({ 'x-webhook-KEY': apiKey.key }), { scheme: 'apiKey', principal: apiKey.id }],
  ])('accepts %s and logs one line naming the scheme and principal, never the secret', async (_name, headers, authenticated) => {
    // Act
    const response = await health(request(headers()), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
    expect(finishedLines()).toEqual([expect.objectContaining({ authentication: authenticated, statusCode: 204 })]);
    const logged = JSON.stringify(logLines);
    for (const secret of [portalUser.password, staticToken.token, apiKey.key]) expect(logged).not.toContain(secret);
  });

  it('accepts an access token of the issuer, audience and scope, naming its client in the log', async () => {
    // Prepare
    const token = await mint();

    // Act
    const response = await health(request(bearer(token)), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
    expect(finishedLines()).toEqual([expect.objectContaining({ authentication: { scheme: 'jwt', principal: 'caller-app' } })]);
    expect(JSON.stringify(logLines)).not.toContain(token.split('.')[2]);
  });

  it('accepts an RFC 9068 access token (typ at+jwt)', async () => {
    // Act
    const response = await health(request(bearer(await issuer.mint(currentKey, { aud: 'portal-webhook' }, { typ: 'at+jwt' }))), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
  });

  it('accepts scopes given as an array in scp, as Okta issues them', async () => {
    // Act
    const response = await health(request(bearer(await mint({ scope: undefined, scp: ['other', 'webhook/invoke'] }))), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(204);
  });

  it('challenges for every enabled scheme, without an error code, when no credential is presented', async () => {
    // Act
    const response = await create(request({}, 'create'), lambdaContext);

    // Assess
    expectRefused(response, 401, 'POST', '/v1/createCredentials');
    expect(response.headers?.['WWW-Authenticate']).toBe(
      'Basic realm="portal-credentials-webhook", charset="UTF-8", Bearer realm="portal-credentials-webhook", scope="webhook/invoke", ApiKey realm="portal-credentials-webhook", header="X-Webhook-Key"',
    );
    expect(JSON.parse(response.body).message).toBe(
      'Valid credentials are required: HTTP Basic credentials, a bearer token, an API key in the X-Webhook-Key header or an OAuth 2.0 access token with the scope webhook/invoke.',
    );
    expect(finishedLines()).toEqual([expect.objectContaining({ authentication: { scheme: 'none', refused: 'no credentials' }, statusCode: 401 })]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refusedTokens: [string, () => Promise<string>, string][] = [
    ['expired', () => mint({ iat: now() - 600, exp: now() - 1 }), 'expired'],
    ['not yet valid', () => mint({ nbf: now() + 120 }), 'not yet valid'],
    ['from another issuer', () => mint({ iss: 'https://evil.example.com/' }), 'claim iss check_failed'],
    ['for another audience', () => mint({ aud: 'someone-else' }), 'claim aud check_failed'],
    ['without an audience', () => mint({ aud: undefined }), 'claim aud missing'],
    ['without an expiry', () => mint({ exp: undefined }), 'claim exp missing'],
    ['an ID token', () => mint({ token_use: 'id' }), 'not an access token'],
    ['issued a day in the future', () => mint({ iat: now() + 86_400, exp: now() + 86_700 }), 'issued in the future'],
    ['valid for ten years', () => mint({ exp: now() + 3_650 * 86_400 }), 'lives longer than the maximum token age'],
    ['typed as a DPoP proof', () => issuer.mint(currentKey, { aud: 'portal-webhook' }, { typ: 'dpop+jwt' }), 'not an access token (typ)'],
    [
      'with a tampered payload',
      async () => {
        const [header, , signature] = (await mint()).split('.');
        const forged = Buffer.from(
          JSON.stringify({ iss: issuer.issuer, aud: 'portal-webhook', client_id: 'admin', scope: 'webhook/invoke', exp: now() + 300 }),
        ).toString('base64url');
        return `${header}.${forged}.${signature}`;
      },
      'signature does not verify',
    ],
    [
      'with alg none',
      async () => unsecuredToken({ iss: issuer.issuer, aud: 'portal-webhook', scope: 'webhook/invoke', exp: now() + 300 }),
      'algorithm not allowed',
    ],
    [
      'signed HS256 with a guessable secret',
      async () =>
        new SignJWT({ iss: issuer.issuer, aud: 'portal-webhook', scope: 'webhook/invoke', exp: now() + 300 })
          .setProtectedHeader({ alg: 'HS256', kid: currentKey.kid })
          .sign(new TextEncoder().encode('guess')),
      'algorithm not allowed',
    ],
    ['signed by a key the issuer does not publish', () => mint({}, strangerKey), 'signed by a key the issuer does not publish'],
    ['not a JWT and no static token', async () => 'not-a-known-static-token-nor-a-jwt-0123456789', 'malformed (ERR_JWS_INVALID)'],
  ];

  it.each(refusedTokens)('refuses a token %s with 401 and error="invalid_token", before any provisioning', async (_name, token, reason) => {
    // Prepare
    const presented = await token();

    // Act
    const response = await create(request(bearer(presented), 'create'), lambdaContext);

    // Assess
    expectRefused(response, 401, 'POST', '/v1/createCredentials');
    expect(response.headers?.['WWW-Authenticate']).toContain(
      'Bearer realm="portal-credentials-webhook", error="invalid_token", scope="webhook/invoke"',
    );
    expect(response.body).not.toContain(presented);
    expect(finishedLines()).toEqual([expect.objectContaining({ authentication: { scheme: 'jwt', refused: reason } })]);
  });

  it('refuses a valid token without the scope with 403 and error="insufficient_scope"', async () => {
    // Act
    const response = await create(request(bearer(await mint({ scope: 'webhook/read other' })), 'create'), lambdaContext);

    // Assess
    expectRefused(response, 403, 'POST', '/v1/createCredentials');
    expect(response.headers?.['WWW-Authenticate']).toContain(
      'Bearer realm="portal-credentials-webhook", error="insufficient_scope", scope="webhook/invoke"',
    );
    expect(finishedLines()).toEqual([
      expect.objectContaining({ authentication: { scheme: 'jwt', principal: 'caller-app', refused: 'missing scope' } }),
    ]);
  });

  it.each([
    ['a longer scope that starts with it', { scope: 'webhook/invoke-admin' }],
    ['a scope that ends with it', { scope: 'x-webhook/invoke' }],
    ['a scope that differs in letter case', { scope: 'Webhook/Invoke' }],
    ['scopes that hold it only when joined', { scope: 'webhook/ invoke' }],
    ['a longer scope in scp', { scope: undefined, scp: ['webhook/invoke-admin', 'other'] }],
    ['scp as one string holding a longer scope', { scope: undefined, scp: 'webhook/invokes other' }],
  ])('refuses a token with %s, not the scope itself, with 403', async (_name, claims) => {
    // Act
    const response = await create(request(bearer(await mint(claims)), 'create'), lambdaContext);

    // Assess
    expectRefused(response, 403, 'POST', '/v1/createCredentials');
  });

  it.each([
    ['a bearer header without a token', { Authorization: 'Bearer' }],
    ['a bearer token with a space inside', { Authorization: `Bearer ${staticToken.token.slice(0, 10)} ${staticToken.token.slice(10)}` }],
    ['a wrong API key', { 'X-Webhook-Key': `${apiKey.key}x` }],
    ['an API key with a space', { 'X-Webhook-Key': `${apiKey.key} ` }],
    ['another scheme', { Authorization: `Digest username="portal", realm="portal-credentials-webhook"` }],
    ['a static token under another scheme', { Authorization: `Token ${staticToken.token}` }],
  ])('refuses %s with 401 before any provisioning', async (_name, headers) => {
    // Act
    const response = await create(request(headers, 'create'), lambdaContext);

    // Assess
    expectRefused(response, 401, 'POST', '/v1/createCredentials');
    expect(response.body).not.toContain(apiKey.key);
  });

  const twoCredentials: [string, () => APIGatewayProxyEvent][] = [
    [
      'a right API key next to a right Basic pair',
      () => request({ 'X-Webhook-Key': apiKey.key, Authorization: basic(portalUser.username, portalUser.password) }),
    ],
    ['a right API key next to a right bearer token', () => request({ 'X-Webhook-Key': apiKey.key, ...bearer(staticToken.token) })],
    [
      'an API key sent twice, both right',
      () => ({ ...request({ 'X-Webhook-Key': apiKey.key }), multiValueHeaders: { 'X-Webhook-Key': [apiKey.key, apiKey.key] } }),
    ],
    [
      'two Authorization headers differing only in the case of their names',
      () => {
        const event = request(bearer(staticToken.token));
        event.headers.authorization = basic(portalUser.username, portalUser.password);
        event.multiValueHeaders.authorization = [event.headers.authorization];
        return event;
      },
    ],
  ];

  it.each(twoCredentials)(
    'answers %s with 400 AMBIGUOUS_CREDENTIALS and error="invalid_request" (RFC 6750 §3.1), before any provisioning',
    async (_name, event) => {
      // Act
      const response = await health(event(), lambdaContext);

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ code: 'AMBIGUOUS_CREDENTIALS', message: expect.any(String) });
      expect(response.headers?.['WWW-Authenticate']).toContain(
        'Bearer realm="portal-credentials-webhook", error="invalid_request", scope="webhook/invoke"',
      );
      expectResponseMatchesOpenApi('GET', '/v1/health', response);
      expect(aws.apiGateway.calls()).toHaveLength(0);
      expect(finishedLines()).toEqual([
        expect.objectContaining({ authentication: { scheme: 'ambiguous', refused: 'more than one credential' }, statusCode: 400 }),
      ]);
    },
  );

  it.each([
    ['a bearer token over 8 KB', `Bearer ${'A'.repeat(9_000)}`],
    ['a bearer token over 8 KB, the scheme in lower case', `bearer ${staticToken.token.repeat(250)}`],
  ])('refuses %s with 401 and error="invalid_token"', async (_name, value) => {
    // Act
    const response = await create(request({ Authorization: value }, 'create'), lambdaContext);

    // Assess
    expectRefused(response, 401, 'POST', '/v1/createCredentials');
    expect(response.headers?.['WWW-Authenticate']).toContain('Bearer realm="portal-credentials-webhook", error="invalid_token"');
  });

  it("answers 503 AUTH_UNAVAILABLE, provisioning nothing, when the issuer's keys cannot be fetched", async () => {
    // Prepare: a key the cache does not hold, after the refetch cooldown, while the issuer fails.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    issuer.state.failing = true;

    // Act
    const response = await create(request(bearer(await mint({}, nextKey)), 'create'), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).code).toBe('AUTH_UNAVAILABLE');
    expect(aws.apiGateway.calls()).toHaveLength(0);
  });
});

describe('rotation without a restart', () => {
  it('takes a new signing key at once and refuses tokens of a key rotated out of the JWKS once the cache expires', async () => {
    // Prepare: the cache holds the current key.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 20 * 60_000 });
    expect((await health(request(bearer(await mint())), lambdaContext)).statusCode).toBe(204);

    // Act: the issuer publishes its next key and, later, drops the current one.
    issuer.publish(currentKey, nextKey);
    vi.setSystemTime(Date.now() + 31_000);
    const nextKeyToken = await health(request(bearer(await mint({}, nextKey))), lambdaContext);
    issuer.publish(nextKey);
    const oldKeyWithinCache = await health(request(bearer(await mint())), lambdaContext);
    vi.setSystemTime(Date.now() + 61_000);
    const oldKeyAfterCache = await health(request(bearer(await mint())), lambdaContext);

    // Assess
    expect(nextKeyToken.statusCode).toBe(204);
    expect(oldKeyWithinCache.statusCode).toBe(204);
    expect(oldKeyAfterCache.statusCode).toBe(401);
  });

  it.each([
    [
      'a static bearer token',
      bearer(staticToken.token),
      { ...allSets, bearerTokens: [{ id: 'coviu-next', token: 'n3xt-static-bearer-token-0123456789abcdef' }] },
    ],
    ['an API key', { 'X-Webhook-Key': apiKey.key }, { ...allSets, apiKeys: [] }],
    [
      'a Basic pair',
      { Authorization: basic(portalUser.username, portalUser.password) },
      { basic: [{ username: 'portal-next', password: 'next-password-123' }] },
    ],
  ])('refuses %s removed from the secret once the cache expires (300 s)', async (_name, headers, without) => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    expect((await health(request(headers), lambdaContext)).statusCode).toBe(204);
    aws.secrets.on(GetSecretValueCommand).resolves(secretWith(without));

    // Act
    const withinCache = await health(request(headers), lambdaContext);
    vi.setSystemTime(Date.now() + 301_000);
    const afterCache = await health(request(headers), lambdaContext);

    // Assess
    expect(withinCache.statusCode).toBe(204);
    expect(afterCache.statusCode).toBe(401);
  });

  it('answers 503 AUTH_MISCONFIGURED for a secret whose token is too short to be safe', async () => {
    // Prepare
    aws.secrets.on(GetSecretValueCommand).resolves(secretWith({ bearerTokens: [{ id: 'short', token: '990192803' }] }));

    // Act
    const response = await health(request(bearer('990192803')), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).code).toBe('AUTH_MISCONFIGURED');
    expect(JSON.stringify(logLines)).not.toContain('990192803');
  });

  it.each([
    ['a bearer token with "!"', { bearerTokens: [staticToken, { id: 'verity-2026', token: 'verity-fixed-access-token-0123456789!' }] }],
    ['a bearer token with a space', { bearerTokens: [{ id: 'verity-2026', token: 'verity fixed access token 0123456789' }] }],
    ['a bearer token with "=" inside', { bearerTokens: [{ id: 'verity-2026', token: 'verity=fixed-access-token-0123456789' }] }],
    ['an API key with a non-ASCII letter', { apiKeys: [{ id: 'verity-2026', key: 'w3b3x-api-key-välue-0123456789abcdefghij' }] }],
  ])('answers 503 AUTH_MISCONFIGURED naming the entry, never its value, for %s no request could present', async (_name, sets) => {
    // Prepare
    aws.secrets.on(GetSecretValueCommand).resolves(secretWith({ basic: [portalUser], ...sets }));
    const value = JSON.stringify(sets).match(/"(?:token|key)":"([^"]+)"\}\]/)?.[1] as string;
    const errorLines: string[] = [];
    const stderrSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => errorLines.push(String(chunk)) > 0);

    // Act
    const response = await health(request({ Authorization: basic(portalUser.username, portalUser.password) }), lambdaContext);
    stderrSpy.mockRestore();

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ code: 'AUTH_MISCONFIGURED', message: expect.stringContaining('"verity-2026"') });
    expect(errorLines.join('')).toContain('"unusable":["verity-2026"]');
    expect(response.body).not.toContain(value);
    expect(JSON.stringify(logLines) + errorLines.join('')).not.toContain(value);
  });

  it('answers 503 AUTH_MISCONFIGURED for a pair that also holds credential sets, rather than drop the sets unseen', async () => {
    // Prepare: the pair's shape with bearer tokens beside it.
    aws.secrets.on(GetSecretValueCommand).resolves(secretWith({ ...portalUser, bearerTokens: [staticToken] }));

    // Act
    const response = await health(request(bearer(staticToken.token)), lambdaContext);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).code).toBe('AUTH_MISCONFIGURED');
    expect(JSON.stringify(logLines)).not.toContain(staticToken.token);
  });
});

describe('hostile credential headers', () => {
  const b64token = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,300}=*$/);
  const hostileValue = fc.oneof(
    b64token.map((token) => `Bearer ${token}`),
    fc.string({ maxLength: 200 }).map((token) => `Bearer ${token}`),
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      `Bearer\t${staticToken.token}`,
      `Bearer ${staticToken.token} `,
      `Bearer ${staticToken.token}\n`,
      `Bearer "${staticToken.token}"`,
      `Bearer ${staticToken.token.toUpperCase()}`,
      `Bearer ${staticToken.token.slice(1)}`,
      `Bearer ${staticToken.token}, Bearer ${staticToken.token}`,
      `Bearer ${'A'.repeat(9000)}`,
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      'Bearer e30.e30.e30',
      'Bearer ...',
      `Bearer ${apiKey.key}`,
    ),
  );
  const hostileKey = fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.constantFrom(
      '',
      ' ',
      apiKey.key.toUpperCase(),
      `${apiKey.key}\0`,
      ` ${apiKey.key}`,
      `${apiKey.key},${apiKey.key}`,
      staticToken.token,
      'K'.repeat(9000),
    ),
  );
  const headerSets = fc.oneof(
    fc
      .tuple(fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION'), hostileValue)
      .map(([name, value]) => [[name, value]] as [string, string][]),
    fc.tuple(fc.constantFrom('X-Webhook-Key', 'x-webhook-key'), hostileKey).map(([name, value]) => [[name, value]] as [string, string][]),
    fc.tuple(hostileValue, hostileKey).map(
      ([value, key]) =>
        [
          ['Authorization', value],
          ['X-Webhook-Key', key],
        ] as [string, string][],
    ),
    fc.tuple(fc.constantFrom(bearer(staticToken.token).Authorization, `Bearer ${apiKey.key}`), hostileValue).map(
      ([good, other]) =>
        [
          ['Authorization', good],
          ['authorization', other],
        ] as [string, string][],
    ),
  );

  it('refuses every one with 401 and the challenges, echoes nothing and provisions nothing', async () => {
    await fc.assert(
      fc.asyncProperty(headerSets, async (lines) => {
        // Prepare
        resetAwsMocks();
        aws.secrets.on(GetSecretValueCommand).resolves(secretWith(allSets));
        const event = request({}, 'create');
        for (const [name, value] of lines) {
          event.headers[name] = value;
          (event.multiValueHeaders[name] ??= []).push(value);
        }

        // Act
        const response = await create(event, lambdaContext);

        // Assess: two credential headers are a 400 invalid_request (RFC 6750 §3.1), anything else a 401.
        if (lines.length > 1) {
          expect(response.statusCode).toBe(400);
          expect(JSON.parse(response.body).code).toBe('AMBIGUOUS_CREDENTIALS');
          expect(response.headers?.['WWW-Authenticate']).toContain('error="invalid_request"');
          expectResponseMatchesOpenApi('POST', '/v1/createCredentials', response);
          expect(aws.apiGateway.calls()).toHaveLength(0);
          expect(aws.dynamodb.calls()).toHaveLength(0);
        } else {
          expectRefused(response, 401, 'POST', '/v1/createCredentials');
        }
        expect(response.headers?.['WWW-Authenticate']).toMatch(/^Basic realm="portal-credentials-webhook", charset="UTF-8", Bearer realm=/);
        for (const [, value] of lines) if (value.length > 3) expect(response.body).not.toContain(value);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
