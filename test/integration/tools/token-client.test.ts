/**
 * The developers' token client and command against cognito-local plus the token-endpoint
 * stand-in: app clients are created with the real SDK, the grant travels over real HTTP,
 * and the tokens are verified with jose against the stand-in's JWKS.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
  ResourceNotFoundException,
  UpdateUserPoolClientCommand,
  type CreateUserPoolClientCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startCognitoLocal, type CognitoLocal } from '../../../local/stand-ins/cognito-local.ts';
import { startCognitoTokenEndpoint, type CognitoTokenEndpoint } from '../../../local/stand-ins/cognito-token-endpoint.ts';
import { EXIT_USAGE, main } from '../../../tools/fetch-token.ts';
import {
  InvalidClientError,
  InvalidScopeError,
  TokenClient,
  TokenClientConfigurationError,
  TokenEndpointUnreachableError,
  UnauthorizedClientError,
  fetchClientCredentialsToken,
  type ClientAuthMethod,
  type TokenClientOptions,
} from '../../../tools/token-client.ts';

const SCOPES = ['orders/read', 'orders/write'];

let cognitoLocal: CognitoLocal;
let endpoint: CognitoTokenEndpoint;
let cognito: CognitoIdentityProviderClient;
let userPoolId: string;
/** A client-credentials app client that no test modifies. */
let m2m: AppClient;

interface AppClient {
  clientId: string;
  clientSecret: string;
}

beforeAll(async () => {
  cognitoLocal = await startCognitoLocal();
  cognito = new CognitoIdentityProviderClient({
    endpoint: cognitoLocal.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const pool = await cognito.send(new CreateUserPoolCommand({ PoolName: 'token-client-test' }));
  userPoolId = required(pool.UserPool?.Id, 'user pool id');
  endpoint = await startCognitoTokenEndpoint({ cognitoEndpoint: cognitoLocal.url, userPoolId });
  m2m = await createAppClient();
});

afterAll(async () => {
  await endpoint?.close();
  cognito?.destroy();
  await cognitoLocal?.close();
});

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`cognito-local returned no ${what}`);
  return value;
}

/** An app client set up as the webhook sets them up for client credentials. */
async function createAppClient(overrides: Partial<CreateUserPoolClientCommandInput> = {}): Promise<AppClient> {
  const { UserPoolClient: client } = await cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: 'orders-consumer',
      GenerateSecret: true,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: SCOPES,
      ...overrides,
    }),
  );
  return { clientId: required(client?.ClientId, 'client id'), clientSecret: required(client?.ClientSecret, 'client secret') };
}

function options(client: AppClient, extra: Partial<TokenClientOptions> = {}): TokenClientOptions {
  return { tokenUrl: endpoint.tokenUrl, clientId: client.clientId, clientSecret: client.clientSecret, ...extra };
}

async function verify(accessToken: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(endpoint.jwksUrl));
  const { payload } = await jwtVerify(accessToken, jwks, { issuer: endpoint.issuer, algorithms: ['RS256'] });
  return payload;
}

const scopesOf = (payload: JWTPayload) => String(payload.scope).split(' ').sort();

/** Awaits the rejection and checks that no rendering of the error reveals any of the secrets. */
async function rejection(promise: Promise<unknown>, ...secrets: string[]): Promise<Error> {
  const error = await promise.then(
    () => expect.fail('expected the token request to fail'),
    (reason: unknown) => reason as Error,
  );
  for (const rendering of [error.message, String(error), inspect(error, { depth: 10 })]) {
    for (const secret of secrets) expect(rendering).not.toContain(secret);
  }
  return error;
}

async function unusedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cognito-local', () => {
  it('supports the app-client operations the webhook and the token stand-in rely on', async () => {
    const { clientId, clientSecret } = await createAppClient({ ClientName: 'lifecycle' });
    expect(clientSecret.length).toBeGreaterThan(0);

    const described = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
    expect(described.UserPoolClient).toMatchObject({
      ClientSecret: clientSecret,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: SCOPES,
    });

    await cognito.send(
      new UpdateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientId: clientId,
        ClientName: 'lifecycle',
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthScopes: ['orders/read'],
        AccessTokenValidity: 15,
        TokenValidityUnits: { AccessToken: 'minutes' },
      }),
    );
    const updated = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
    expect(updated.UserPoolClient).toMatchObject({ AllowedOAuthScopes: ['orders/read'], AccessTokenValidity: 15, ClientSecret: clientSecret });

    const listed = await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId }));
    expect(listed.UserPoolClients?.map((c) => c.ClientId)).toContain(clientId);

    await cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
    await expect(cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    const afterDelete = await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId }));
    expect(afterDelete.UserPoolClients?.map((c) => c.ClientId)).not.toContain(clientId);
  });
});

describe('token client', () => {
  it.each<ClientAuthMethod>(['client_secret_basic', 'client_secret_post'])(
    'fetches a token with %s that verifies against the JWKS and carries the client and all its scopes',
    async (authMethod) => {
      const token = await new TokenClient(options(m2m, { authMethod })).getToken();

      expect(token).toMatchObject({ tokenType: 'bearer', expiresIn: 3600, scope: undefined });
      const claims = await verify(token.accessToken);
      expect(claims).toMatchObject({ client_id: m2m.clientId, sub: m2m.clientId, token_use: 'access', version: 2 });
      expect(scopesOf(claims)).toEqual(SCOPES);
    },
  );

  it('grants exactly the requested subset of the allowed scopes', async () => {
    const token = await fetchClientCredentialsToken(options(m2m, { scope: 'orders/read' }));

    expect(token.scope).toBe('orders/read');
    expect((await verify(token.accessToken)).scope).toBe('orders/read');
  });

  it('raises InvalidScopeError for a scope the client may not request', async () => {
    const error = await rejection(fetchClientCredentialsToken(options(m2m, { scope: 'orders/read orders/delete' })), m2m.clientSecret);

    expect(error).toBeInstanceOf(InvalidScopeError);
    expect(error).toMatchObject({ error: 'invalid_scope', status: 400 });
    expect(error.message).toContain('orders/delete');
  });

  it('raises InvalidClientError for a wrong secret', async () => {
    const wrongSecret = `${m2m.clientSecret}x`;
    const error = await rejection(fetchClientCredentialsToken({ ...options(m2m), clientSecret: wrongSecret }), m2m.clientSecret, wrongSecret);

    expect(error).toBeInstanceOf(InvalidClientError);
    expect(error).toMatchObject({ error: 'invalid_client', status: 400 });
    expect(error.message).toContain(m2m.clientId);
  });

  it('keeps serving a cached token after the client is deleted, and raises InvalidClientError once invalidated', async () => {
    const client = await createAppClient({ ClientName: 'to-be-revoked' });
    const tokens = new TokenClient(options(client, { authMethod: 'client_secret_post' }));
    const issued = await tokens.getToken();

    await cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: client.clientId }));

    // Issued tokens stay valid until they expire, in Cognito too; only new requests fail.
    expect(await tokens.getToken()).toBe(issued);
    tokens.invalidate();
    const error = await rejection(tokens.getToken(), client.clientSecret);
    expect(error).toBeInstanceOf(InvalidClientError);
  });

  it('raises UnauthorizedClientError for a client without the client_credentials flow', async () => {
    const client = await createAppClient({
      ClientName: 'code-flow-only',
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['https://example.com/callback'],
    });

    const error = await rejection(fetchClientCredentialsToken(options(client)), client.clientSecret);

    expect(error).toBeInstanceOf(UnauthorizedClientError);
    expect(error).toMatchObject({ error: 'unauthorized_client' });
  });

  it('shares one request between concurrent callers', async () => {
    const tokens = new TokenClient(options(m2m));

    const results = await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()]);

    // Every issued token has its own jti, so equal tokens mean a single request.
    expect(new Set(results.map((token) => token.accessToken)).size).toBe(1);
  });

  it.each([
    // Cognito's default of 60 minutes: renewed 60 s early (the cap).
    { validity: {}, lifetime: 3600, renewsAfter: 3540 },
    // The 5-minute minimum: renewed 10 % (30 s) early.
    { validity: { AccessTokenValidity: 5, TokenValidityUnits: { AccessToken: 'minutes' as const } }, lifetime: 300, renewsAfter: 270 },
  ])('caches a $lifetime s token and renews it after $renewsAfter s', async ({ validity, lifetime, renewsAfter }) => {
    const client = await createAppClient({ ClientName: `lifetime-${lifetime}`, ...validity });
    let now = Date.now();
    const tokens = new TokenClient(options(client, { now: () => now }));

    const first = await tokens.getToken();
    expect(first.expiresIn).toBe(lifetime);
    now += (renewsAfter - 1) * 1000;
    expect((await tokens.getToken()).accessToken).toBe(first.accessToken);
    now += 2000;
    const renewed = await tokens.getToken();
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect(renewed.expiresAt).toBe(now + lifetime * 1000);
  });

  it('raises TokenEndpointUnreachableError when nothing listens on the port', async () => {
    const tokenUrl = `http://127.0.0.1:${await unusedPort()}/oauth2/token`;

    const error = await rejection(fetchClientCredentialsToken(options(m2m, { tokenUrl })), m2m.clientSecret);

    expect(error).toBeInstanceOf(TokenEndpointUnreachableError);
    expect(error).toMatchObject({ reason: 'connection_refused' });
    expect(error.message).toContain('connection refused');
  });

  it('raises TokenEndpointUnreachableError when the endpoint does not answer in time', async () => {
    const silent: Server = createServer(() => {}); // accepts requests, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const tokenUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/oauth2/token`;
    try {
      const error = await rejection(fetchClientCredentialsToken(options(m2m, { tokenUrl, timeoutSeconds: 0.2 })), m2m.clientSecret);

      expect(error).toBeInstanceOf(TokenEndpointUnreachableError);
      expect(error).toMatchObject({ reason: 'timeout' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses plain http to a non-loopback host before sending the secret anywhere', () => {
    expect(() => new TokenClient(options(m2m, { tokenUrl: 'http://auth.example.com/oauth2/token' }))).toThrow(TokenClientConfigurationError);
  });
});

describe('token endpoint stand-in', () => {
  async function post(
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const response = await fetch(endpoint.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  }

  const basic = (client: AppClient) => ({ authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` });

  it('answers a token request like Cognito: only the three fields, not cacheable', async () => {
    const { status, body, headers } = await post({ grant_type: 'client_credentials' }, basic(m2m));

    expect(status).toBe(200);
    expect(Object.keys(body as object).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    ['both Basic and a body secret', { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }, true, 'invalid_request'],
    ['no client authentication', { grant_type: 'client_credentials' }, false, 'invalid_client'],
    ['a client id without a secret', { grant_type: 'client_credentials', client_id: 'x' }, false, 'invalid_client'],
    ['no grant type', {}, true, 'invalid_request'],
    ['another grant type', { grant_type: 'password' }, true, 'unsupported_grant_type'],
  ])('answers 400 for %s', async (_case, form, withBasic, error) => {
    const { status, body } = await post(form, withBasic ? basic(m2m) : {});

    expect(status).toBe(400);
    expect(body).toEqual({ error });
  });

  it('serves the JWKS at the root and under the pool id', async () => {
    const [root, underPool] = await Promise.all(
      [`${endpoint.url}/.well-known/jwks.json`, endpoint.jwksUrl].map(async (url) => (await fetch(url)).json()),
    );

    expect(root).toEqual(underPool);
    expect(root).toMatchObject({ keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig' }] });
  });
});

describe('fetch-token command', () => {
  const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');

  function run(args: string[], clientSecret: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(TSX, ['tools/fetch-token.ts', ...args], { env: { ...process.env, CLIENT_SECRET: clientSecret } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const baseArgs = () => ['--token-url', endpoint.tokenUrl, '--client-id', m2m.clientId];

  it('prints the token as JSON and exits 0', async () => {
    const { code, stdout, stderr } = await run([...baseArgs(), '--scope', 'orders/write', '--auth', 'post'], m2m.clientSecret);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'orders/write' });
    expect((await verify(String(printed.access_token))).client_id).toBe(m2m.clientId);
  });

  it('explains invalid_client on stderr, without the secret, and exits 1', async () => {
    const wrongSecret = 'not-the-secret-0123456789';
    const { code, stdout, stderr } = await run(baseArgs(), wrongSecret);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: Client authentication failed for client id "\w+".*OAuth error "invalid_client"/);
    expect(stderr).not.toContain(wrongSecret);
  });

  it('exits 2 with usage help when the secret is not in the environment', async () => {
    const output = { stdout: '', stderr: '' };
    const code = await main(baseArgs(), {}, { stdout: (text) => (output.stdout += text), stderr: (text) => (output.stderr += text) });

    expect(code).toBe(EXIT_USAGE);
    expect(output.stderr).toContain('CLIENT_SECRET');
  });
});
