/**
 * Local stand-in for the token endpoint of a Cognito user-pool domain (`/oauth2/token`,
 * client credentials grant only) and for the issuer's JWKS, which cognito-local lacks.
 *
 * It decides against the app clients that exist in cognito-local at the moment of each
 * request (one `DescribeUserPoolClient` per token request), so a client the webhook creates,
 * updates or deletes through the SDK is honoured at once, as in Cognito.
 *
 * Behaviour mirrored from Cognito's token endpoint documentation:
 * - client authentication by `client_secret_basic` or `client_secret_post`;
 * - errors are HTTP 400 with a JSON body holding only `error` (no description);
 * - without `scope` the token carries every scope the client allows; client credentials
 *   tokens carry only custom scopes (`<resource server>/<scope>`);
 * - the access token is an RS256 JWT with Cognito's claims, valid for the client's
 *   `AccessTokenValidity` (unit `hours` unless `TokenValidityUnits` says otherwise; 60 minutes if unset).
 *
 * The JWKS is served at `/.well-known/jwks.json` and, as Cognito lays it out relative to the
 * issuer, at `/<userPoolId>/.well-known/jwks.json`.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  ResourceNotFoundException,
  type TimeUnitsType,
  type UserPoolClientType,
} from '@aws-sdk/client-cognito-identity-provider';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export interface CognitoTokenEndpointOptions {
  /** The cognito-local (or other Cognito API) endpoint holding the app clients. */
  cognitoEndpoint: string;
  userPoolId: string;
  /** Region for the SDK client. Defaults to us-east-1. */
  region?: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0, an ephemeral port. */
  port?: number;
  /** The tokens' `iss`. Defaults to `http://HOST:PORT/<userPoolId>`, Cognito's `<idp endpoint>/<poolId>` layout. */
  issuer?: string;
}

export interface CognitoTokenEndpoint {
  /** Base URL, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** `${url}/oauth2/token`, the user-pool domain's token endpoint. */
  tokenUrl: string;
  /** The issuer's JWKS, for verifying the access tokens. */
  jwksUrl: string;
  /** The `iss` of every token issued. */
  issuer: string;
  close(): Promise<void>;
}

export async function startCognitoTokenEndpoint(options: CognitoTokenEndpointOptions): Promise<CognitoTokenEndpoint> {
  const host = options.host ?? '127.0.0.1';
  const signer = await TokenSigner.create();
  const cognito = new CognitoIdentityProviderClient({
    endpoint: options.cognitoEndpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, // the stand-in checks no signatures
    maxAttempts: 1, // a failure should surface in the test that caused it, not after retries
  });

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const context: EndpointContext = {
    userPoolId: options.userPoolId,
    issuer: options.issuer ?? `${url}/${options.userPoolId}`,
    cognito,
    signer,
  };
  // Attached only now: the issuer depends on the port, and nobody knows the port before we return.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void respond(context, req, res));

  return {
    url,
    tokenUrl: `${url}${TOKEN_PATH}`,
    jwksUrl: `${url}/${options.userPoolId}${JWKS_PATH}`,
    issuer: context.issuer,
    close: async () => {
      server.closeAllConnections(); // fetch keeps sockets alive; close() alone would wait for them
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      cognito.destroy();
    },
  };
}

// ---------------------------------------------------------------------------
// Routing and replies
// ---------------------------------------------------------------------------

const TOKEN_PATH = '/oauth2/token';
const JWKS_PATH = '/.well-known/jwks.json';

interface EndpointContext {
  userPoolId: string;
  issuer: string;
  cognito: CognitoIdentityProviderClient;
  signer: TokenSigner;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

async function respond(context: EndpointContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(context, req);
  } catch (error) {
    // e.g. cognito-local unreachable: Cognito's own failures surface as a 5xx too.
    console.error('cognito-token-endpoint: unexpected failure', error);
    reply = oauthErrorReply(new TokenError('server_error', 500));
  }
  send(res, reply);
}

async function route(context: EndpointContext, req: IncomingMessage): Promise<Reply> {
  const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
  if (path === TOKEN_PATH) {
    if (req.method !== 'POST') return { status: 405, headers: { Allow: 'POST' }, body: { message: 'Only POST is allowed' } };
    return issueToken(context, req).catch((error: unknown) => {
      if (error instanceof TokenError) return oauthErrorReply(error);
      throw error;
    });
  }
  if (req.method === 'GET' && (path === JWKS_PATH || path === `/${context.userPoolId}${JWKS_PATH}`)) {
    return { status: 200, body: context.signer.jwks };
  }
  return { status: 404, body: { message: `No route for ${req.method} ${path}` } };
}

/** Cognito's documented error shape: `{"error": code}` with the charset parameter. */
function oauthErrorReply(error: TokenError): Reply {
  return { status: error.status, headers: { 'Cache-Control': 'no-store' }, body: { error: error.code } };
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

/** An OAuth error answer (RFC 6749 §5.2). */
class TokenError extends Error {
  constructor(
    readonly code: string,
    readonly status = 400,
  ) {
    super(code);
  }
}

// ---------------------------------------------------------------------------
// POST /oauth2/token: authenticate → check the grant → check scopes → sign
// ---------------------------------------------------------------------------

const CLIENT_CREDENTIALS = 'client_credentials';

async function issueToken(context: EndpointContext, req: IncomingMessage): Promise<Reply> {
  const form = await readForm(req);
  const credentials = clientCredentialsOf(req, form);
  const client = await authenticate(context, credentials);
  checkGrant(client, form.get('grant_type'));
  const scopes = grantedScopes(client, form.get('scope'));
  const expiresIn = accessTokenLifetimeSeconds(client);
  const accessToken = await context.signer.sign({ clientId: credentials.clientId, scopes, issuer: context.issuer, expiresIn });
  return {
    status: 200,
    // RFC 6749 §5.1: token responses must not be cached.
    headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    body: { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' },
  };
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') throw new TokenError('invalid_request');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new TokenError('invalid_request');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

interface PresentedCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Exactly one method: the Basic header (`client_secret_basic`) or `client_id` + `client_secret`
 * in the body (`client_secret_post`). A body `client_id` next to the header is allowed (Cognito's
 * examples send it) but must name the same client.
 */
function clientCredentialsOf(req: IncomingMessage, form: URLSearchParams): PresentedCredentials {
  const header = req.headers.authorization;
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  if (header !== undefined) {
    // RFC 6749 §2.3: a client must not use more than one authentication method in a request.
    if (bodySecret !== undefined) throw new TokenError('invalid_request');
    const fromHeader = parseBasicCredentials(header);
    if (bodyId !== undefined && bodyId !== fromHeader.clientId) throw new TokenError('invalid_client');
    return fromHeader;
  }
  // A client_id alone is a public client, which can never use client credentials.
  if (bodyId === undefined || bodySecret === undefined) throw new TokenError('invalid_client');
  return { clientId: bodyId, clientSecret: bodySecret };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined and base64-encoded. */
function parseBasicCredentials(header: string): PresentedCredentials {
  const match = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  const decoded = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 1) throw new TokenError('invalid_client');
  try {
    return { clientId: formDecode(decoded.slice(0, separator)), clientSecret: formDecode(decoded.slice(separator + 1)) };
  } catch {
    throw new TokenError('invalid_client'); // malformed percent-encoding
  }
}

const formDecode = (value: string) => decodeURIComponent(value.replaceAll('+', ' '));

/** Unknown client and wrong secret look the same to the caller, as in Cognito. */
async function authenticate(context: EndpointContext, credentials: PresentedCredentials): Promise<UserPoolClientType> {
  const client = await describeClient(context, credentials.clientId);
  if (!client?.ClientSecret || !secretsEqual(client.ClientSecret, credentials.clientSecret)) {
    throw new TokenError('invalid_client');
  }
  return client;
}

async function describeClient(context: EndpointContext, clientId: string): Promise<UserPoolClientType | undefined> {
  try {
    const output = await context.cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: context.userPoolId, ClientId: clientId }));
    return output.UserPoolClient;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
function secretsEqual(expected: string, presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}

function checkGrant(client: UserPoolClientType, grantType: string | null): void {
  if (grantType === null) throw new TokenError('invalid_request');
  if (grantType !== CLIENT_CREDENTIALS) throw new TokenError('unsupported_grant_type'); // the only grant this stand-in issues
  if (client.AllowedOAuthFlowsUserPoolClient !== true || !client.AllowedOAuthFlows?.includes(CLIENT_CREDENTIALS)) {
    throw new TokenError('unauthorized_client');
  }
}

/**
 * Requested scopes must all be allowed; none requested means all allowed ones. Only custom
 * (resource-server) scopes count: Cognito never puts openid, email and the like into a client
 * credentials token.
 */
function grantedScopes(client: UserPoolClientType, scopeParameter: string | null): string[] {
  const grantable = (client.AllowedOAuthScopes ?? []).filter((scope) => scope.includes('/'));
  const requested = [...new Set((scopeParameter ?? '').split(' ').filter(Boolean))];
  if (requested.some((scope) => !grantable.includes(scope))) throw new TokenError('invalid_scope');
  const granted = requested.length > 0 ? requested : grantable;
  if (granted.length === 0) throw new TokenError('invalid_scope');
  return granted;
}

const SECONDS_PER_UNIT: Record<TimeUnitsType, number> = { seconds: 1, minutes: 60, hours: 3_600, days: 86_400 };
const DEFAULT_ACCESS_TOKEN_SECONDS = 3_600;

function accessTokenLifetimeSeconds(client: UserPoolClientType): number {
  if (client.AccessTokenValidity === undefined) return DEFAULT_ACCESS_TOKEN_SECONDS;
  const unit = client.TokenValidityUnits?.AccessToken ?? 'hours';
  return client.AccessTokenValidity * SECONDS_PER_UNIT[unit];
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/** One RS256 key pair per running stand-in; its public half is the JWKS. */
class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly kid: string,
    readonly jwks: { keys: JWK[] },
  ) {}

  static async create(): Promise<TokenSigner> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return new TokenSigner(privateKey, kid, { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
  }

  /** The claims of a Cognito client credentials access token: `sub` is the client itself, no `aud`. */
  sign(token: { clientId: string; scopes: string[]; issuer: string; expiresIn: number }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: token.clientId, token_use: 'access', scope: token.scopes.join(' '), auth_time: now, version: 2 })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid })
      .setSubject(token.clientId)
      .setIssuer(token.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + token.expiresIn)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}
