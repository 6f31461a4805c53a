/**
 * The caller's side of the OAuth 2.0 client credentials grant, for developers whose
 * services use the credentials this webhook provisions (a Cognito app client id and
 * secret) to call APIs that accept Cognito access tokens.
 *
 * openid-client does the protocol work: request encoding, `client_secret_basic` /
 * `client_secret_post` authentication and validation of the token response. This module
 * adds what a long-running caller needs on top of it:
 *
 * - a cache that renews a token shortly before it expires, and one shared request for
 *   callers that ask at the same time (Cognito bills machine-to-machine tokens per request);
 * - typed errors whose messages say what to check, and never contain the client secret.
 *
 * `TokenClient` is the cached form for services; `fetchClientCredentialsToken` asks once
 * (used by `tools/fetch-token.ts`).
 */
import { isIP } from 'node:net';
import * as oauth from 'openid-client';

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/** How the client proves its identity at the token endpoint; Cognito accepts both. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

export interface TokenClientOptions {
  /** The token endpoint, e.g. `https://<domain>.auth.<region>.amazoncognito.com/oauth2/token`. */
  tokenUrl: string | URL;
  clientId: string;
  clientSecret: string;
  /**
   * Scopes to request, as a list or a space-separated string. When omitted the server
   * chooses; Cognito then grants every scope the app client allows.
   */
  scope?: string | readonly string[];
  /** Defaults to `client_secret_basic`, the method Cognito documents first. */
  authMethod?: ClientAuthMethod;
  /** Limit for one token request, in seconds. Defaults to 10. */
  timeoutSeconds?: number;
  /** The clock, in epoch milliseconds; tests inject a fake one. Defaults to `Date.now`. */
  now?: () => number;
}

export interface AccessToken {
  accessToken: string;
  /** Lower-cased by openid-client (the value is case-insensitive), e.g. `bearer`. */
  tokenType: string;
  /** Lifetime in seconds as the server reported it; undefined if it did not. */
  expiresIn: number | undefined;
  /**
   * The granted scopes, space-separated: the response's `scope`, or when the server omits it
   * (Cognito does) the requested scopes, which is what RFC 6749 §5.1 says an omitted value means.
   * Undefined when neither is known.
   */
  scope: string | undefined;
  /** Expiry in epoch milliseconds by the client's clock, counted from when the request was sent. */
  expiresAt: number | undefined;
}

/** Base class of every error this module raises. */
export class TokenClientError extends Error {
  override readonly name: string = 'TokenClientError';
}

/** The options cannot work, e.g. a plain-http token URL on a remote host. Raised before any request. */
export class TokenClientConfigurationError extends TokenClientError {
  override readonly name: string = 'TokenClientConfigurationError';
}

/** The token endpoint refused the request with an OAuth error code (RFC 6749 §5.2). */
export class OAuthTokenError extends TokenClientError {
  override readonly name: string = 'OAuthTokenError';

  constructor(
    message: string,
    /** The OAuth error code, e.g. `invalid_client`. */
    readonly error: string,
    /** HTTP status of the answer; Cognito uses 400 for every token error. */
    readonly status: number,
    readonly errorDescription: string | undefined,
  ) {
    super(message);
  }
}

/** Unknown client, wrong secret or deleted client. */
export class InvalidClientError extends OAuthTokenError {
  override readonly name: string = 'InvalidClientError';
}

/** A requested scope is not among those the client may request. */
export class InvalidScopeError extends OAuthTokenError {
  override readonly name: string = 'InvalidScopeError';
}

/** The client authenticated but may not use the client credentials grant. */
export class UnauthorizedClientError extends OAuthTokenError {
  override readonly name: string = 'UnauthorizedClientError';
}

export type UnreachableReason = 'connection_refused' | 'timeout' | 'dns' | 'tls' | 'network';

/** No answer from the token endpoint: nothing listens there, it is too slow, or the network failed. */
export class TokenEndpointUnreachableError extends TokenClientError {
  override readonly name: string = 'TokenEndpointUnreachableError';

  constructor(
    message: string,
    readonly reason: UnreachableReason,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Something answered, but not with a token response nor an OAuth error (wrong URL, server failure). */
export class UnexpectedTokenResponseError extends TokenClientError {
  override readonly name: string = 'UnexpectedTokenResponseError';

  constructor(
    message: string,
    /** HTTP status, when the failure is an unexpected status rather than a malformed body. */
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Hands out access tokens for one client and scope set, renewing them shortly before
 * they expire: 10 % of the lifetime early, at most 60 s, so a token is never used in its
 * last moments when clocks drift or a request is slow.
 */
export class TokenClient {
  readonly #request: PreparedRequest;
  readonly #now: () => number;
  #cached: { token: AccessToken; renewAt: number } | undefined;
  #inFlight: Promise<AccessToken> | undefined;

  /** Checks the options at once, so a bad token URL fails at start-up rather than at the first call. */
  constructor(options: TokenClientOptions) {
    this.#request = prepareRequest(options);
    this.#now = options.now ?? Date.now;
  }

  /** The cached token while it is fresh, else a new one. Concurrent callers share one request. */
  getToken(): Promise<AccessToken> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.renewAt) return Promise.resolve(cached.token);
    this.#inFlight ??= this.#renew();
    return this.#inFlight;
  }

  /** Forgets the cached token, e.g. after an API rejected it because the client's settings changed. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #renew(): Promise<AccessToken> {
    try {
      const token = await requestToken(this.#request, this.#now);
      this.#cached = { token, renewAt: renewalTime(token) };
      return token;
    } finally {
      // A failure is not cached: the next caller tries again.
      this.#inFlight = undefined;
    }
  }
}

/** Requests one token, without caching. Bad options reject like any other failure. */
export async function fetchClientCredentialsToken(options: TokenClientOptions): Promise<AccessToken> {
  return requestToken(prepareRequest(options), options.now ?? Date.now);
}

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

const DEFAULT_TIMEOUT_SECONDS = 10;
const MAX_RENEWAL_MARGIN_MS = 60_000;
const RENEWAL_MARGIN_FRACTION = 0.1;

/** Everything a request needs; the secret lives only inside `config` and the `redact` closure. */
interface PreparedRequest {
  config: oauth.Configuration;
  scope: string | undefined;
  context: ErrorContext;
}

/** What error messages may mention, plus the means to scrub the secret from text we did not write. */
interface ErrorContext {
  tokenUrl: string;
  clientId: string;
  scope: string | undefined;
  timeoutSeconds: number;
  redact(text: string): string;
}

function prepareRequest(options: TokenClientOptions): PreparedRequest {
  const tokenUrl = parseTokenUrl(options.tokenUrl);
  requireNonEmpty(options.clientId, 'clientId');
  requireNonEmpty(options.clientSecret, 'clientSecret');
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0)) throw new TokenClientConfigurationError('timeoutSeconds must be a positive number');

  const scope = normaliseScope(options.scope);
  const config = new oauth.Configuration(
    // openid-client requires an issuer, but the client credentials grant never compares it
    // (no ID token is involved), and Cognito's issuer is a different host than its token URL anyway.
    { issuer: tokenUrl.origin, token_endpoint: tokenUrl.href },
    options.clientId,
    undefined,
    clientAuthentication(options.authMethod ?? 'client_secret_basic', options.clientSecret),
  );
  config.timeout = timeoutSeconds;
  // openid-client refuses plain http; local stand-ins serve it, and only on loopback is that safe.
  if (tokenUrl.protocol === 'http:') oauth.allowInsecureRequests(config);

  const secret = options.clientSecret;
  return {
    config,
    scope,
    context: {
      tokenUrl: tokenUrl.href,
      clientId: options.clientId,
      scope,
      timeoutSeconds,
      redact: (text) => text.replaceAll(secret, '[redacted]'),
    },
  };
}

function parseTokenUrl(raw: string | URL): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TokenClientConfigurationError(`The token URL "${String(raw)}" is not a valid URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  throw new TokenClientConfigurationError(
    `The token URL ${url.href} must use https (plain http is accepted only for loopback hosts such as 127.0.0.1, ` +
      'where local stand-ins run), because the client secret travels with every request',
  );
}

/** `URL.hostname` keeps the brackets of IPv6 literals. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function requireNonEmpty(value: string, name: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new TokenClientConfigurationError(`${name} must not be empty`);
}

/** RFC 6749 §3.3: space-delimited, order irrelevant; duplicates would only confuse the server's check. */
function normaliseScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const parts = (typeof scope === 'string' ? [scope] : scope).flatMap((part) => part.split(/\s+/)).filter(Boolean);
  return parts.length === 0 ? undefined : [...new Set(parts)].join(' ');
}

function clientAuthentication(method: ClientAuthMethod, secret: string): oauth.ClientAuth {
  switch (method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(secret);
    case 'client_secret_post':
      return oauth.ClientSecretPost(secret);
    default:
      throw new TokenClientConfigurationError(`Unknown client authentication method "${String(method)}"`);
  }
}

async function requestToken(request: PreparedRequest, now: () => number): Promise<AccessToken> {
  // The lifetime counts from before the request, so a slow answer shortens it rather than stretching it.
  const sentAt = now();
  let response: oauth.TokenEndpointResponse;
  try {
    response = await oauth.clientCredentialsGrant(request.config, request.scope === undefined ? {} : { scope: request.scope });
  } catch (error) {
    throw toTokenClientError(error, request.context);
  }
  return {
    accessToken: response.access_token,
    tokenType: response.token_type,
    expiresIn: response.expires_in,
    scope: response.scope ?? request.scope,
    expiresAt: response.expires_in === undefined ? undefined : sentAt + response.expires_in * 1000,
  };
}

/** Without a known expiry a token is not reused: it may already be invalid. */
function renewalTime(token: AccessToken): number {
  if (token.expiresAt === undefined || token.expiresIn === undefined) return Number.NEGATIVE_INFINITY;
  const margin = Math.min(MAX_RENEWAL_MARGIN_MS, token.expiresIn * 1000 * RENEWAL_MARGIN_FRACTION);
  return token.expiresAt - margin;
}

// ---------------------------------------------------------------------------
// Errors: what went wrong, and what the developer should check
// ---------------------------------------------------------------------------

/**
 * Maps openid-client's failures to this module's errors. Causes are attached only for
 * network failures (system errors): a response's body could echo request data or carry a
 * token, and errors end up in logs.
 */
function toTokenClientError(error: unknown, context: ErrorContext): TokenClientError {
  if (error instanceof oauth.ResponseBodyError) {
    return oauthError(error.error, error.status, error.error_description, context);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // RFC 6749 §5.2 lets a server answer a failed Basic authentication with 401 and a challenge.
    const parameters = error.cause[0]?.parameters;
    return oauthError(parameters?.error ?? 'invalid_client', error.status, parameters?.error_description, context);
  }
  const reason = unreachableReason(error);
  if (reason) {
    const cause = error instanceof Error ? error.cause : undefined;
    return new TokenEndpointUnreachableError(context.redact(unreachableMessage(reason, context, cause)), reason, { cause });
  }
  if (error instanceof oauth.ClientError) return unexpectedResponse(error, context);
  const detail = error instanceof Error ? error.message : String(error);
  return new TokenClientError(context.redact(`The token request to ${context.tokenUrl} failed: ${detail}`));
}

type OAuthErrorClass = new (...args: ConstructorParameters<typeof OAuthTokenError>) => OAuthTokenError;

const ERROR_CLASSES: Partial<Record<string, OAuthErrorClass>> = {
  invalid_client: InvalidClientError,
  invalid_scope: InvalidScopeError,
  unauthorized_client: UnauthorizedClientError,
};

/** Cognito answers with a bare code (no description), so the hint carries the explanation. */
const HINTS: Partial<Record<string, (context: ErrorContext) => string>> = {
  invalid_client: ({ clientId }) =>
    `Client authentication failed for client id "${clientId}". Check that the id and secret belong to an app client ` +
    'of the user pool behind this token URL, that the secret is the current one, and that the client still exists ' +
    '(revoking credentials deletes it).',
  invalid_scope: ({ clientId, scope }) =>
    `The client "${clientId}" may not request ${scope === undefined ? 'its default scopes' : `the scope "${scope}"`}. ` +
    "Request only scopes listed in the app client's allowed OAuth scopes; they are custom resource-server scopes " +
    'of the form "<resource server>/<scope>". Omit the scope to get all allowed ones.',
  unauthorized_client: ({ clientId }) =>
    `The client "${clientId}" may not use the client credentials grant. Check that the app client has a secret, ` +
    'has OAuth enabled (AllowedOAuthFlowsUserPoolClient) and lists client_credentials among its allowed OAuth flows.',
  invalid_grant: ({ clientId }) =>
    `The token endpoint rejected the grant for client "${clientId}". Check the app client's allowed OAuth flows and scopes.`,
  invalid_request: ({ tokenUrl }) =>
    `The token endpoint ${tokenUrl} rejected the request as malformed. Check that the URL is the user pool ` +
    "domain's /oauth2/token and that nothing else adds credentials to the request (use one authentication method).",
  unsupported_grant_type: ({ tokenUrl }) =>
    `The token endpoint ${tokenUrl} does not support the client credentials grant. Check that the URL is the user pool domain's /oauth2/token.`,
};

function oauthError(code: string, status: number, description: string | undefined, context: ErrorContext): OAuthTokenError {
  const hint = HINTS[code]?.(context) ?? `The token endpoint ${context.tokenUrl} refused the request.`;
  const detail = [`OAuth error "${code}"`, `HTTP ${status}`, description].filter(Boolean).join(', ');
  const ErrorClass = ERROR_CLASSES[code] ?? OAuthTokenError;
  return new ErrorClass(context.redact(`${hint} (${detail})`), code, status, description && context.redact(description));
}

function unreachableReason(error: unknown): UnreachableReason | undefined {
  if (error instanceof oauth.ClientError && error.code === 'OAUTH_TIMEOUT') return 'timeout';
  // fetch reports every transport failure as `TypeError: fetch failed`, the system error as its cause.
  if (!(error instanceof TypeError)) return undefined;
  const code = errorCode(error.cause);
  if (code === undefined) return error.message === 'fetch failed' ? 'network' : undefined;
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (code === 'ETIMEDOUT' || (code.startsWith('UND_ERR_') && code.includes('TIMEOUT'))) return 'timeout';
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'tls';
  return 'network';
}

function causeMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : 'network error';
}

function errorCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null || !('code' in cause)) return undefined;
  return typeof cause.code === 'string' ? cause.code : undefined;
}

function unreachableMessage(reason: UnreachableReason, { tokenUrl, timeoutSeconds }: ErrorContext, cause: unknown): string {
  const host = new URL(tokenUrl).host;
  switch (reason) {
    case 'connection_refused':
      return (
        `Nothing accepts connections at ${host} (connection refused) for the token URL ${tokenUrl}. ` +
        'Check the host and port, and that the server or local stand-in is running.'
      );
    case 'timeout':
      return `The token endpoint ${tokenUrl} did not answer within ${timeoutSeconds} s. Check network access to it (proxy, VPN, firewall) and retry.`;
    case 'dns':
      return (
        `The host name ${host} of the token URL could not be resolved. Check the URL; a Cognito token URL ` +
        'looks like https://<domain>.auth.<region>.amazoncognito.com/oauth2/token.'
      );
    case 'tls':
      return (
        `The TLS connection to ${host} failed (${errorCode(cause)}). Check that the URL names the right host ` +
        'and, behind an intercepting proxy, that its CA is trusted (NODE_EXTRA_CA_CERTS).'
      );
    case 'network':
      return `The connection to the token endpoint ${tokenUrl} failed (${errorCode(cause) ?? causeMessage(cause)}). Check network access and retry.`;
  }
}

/** openid-client puts the Response in the cause of status and content-type failures. */
function unexpectedResponse(error: oauth.ClientError, { tokenUrl }: ErrorContext): UnexpectedTokenResponseError {
  const status = error.cause instanceof Response ? error.cause.status : undefined;
  if (status === undefined || status === 200) {
    return new UnexpectedTokenResponseError(
      `The token endpoint ${tokenUrl} returned a malformed token response (${error.message}). Check that the URL is ` +
        "the user pool domain's /oauth2/token and not another service.",
      status,
    );
  }
  const advice =
    status >= 500
      ? 'The authorization server failed; retry later.'
      : "Check that the URL is the user pool domain's /oauth2/token (a Cognito token URL looks like " +
        'https://<domain>.auth.<region>.amazoncognito.com/oauth2/token).';
  return new UnexpectedTokenResponseError(`The token endpoint ${tokenUrl} answered HTTP ${status} without an OAuth error. ${advice}`, status);
}
