import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthenticationConfig } from '#commons/config';

export type AccessTokenSettings = NonNullable<AuthenticationConfig['accessTokens']>;

/** What verifying a presented access token established. */
export type AccessTokenOutcome =
  | { valid: true; principal: string; scopes: string[] }
  /** Not a token this webhook accepts; `reason` is for the log only, never for the caller. */
  | { valid: false; reason: string }
  /** The issuer's keys cannot be fetched: nobody can be authenticated by token right now. */
  | { valid: false; reason: string; unavailable: true };

/** Asymmetric algorithms only: with a JWKS, a symmetric or `none` algorithm is never a signature this webhook can trust. */
const algorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** `scope` (RFC 9068, space-separated) or `scp` (Okta's array, Entra's string). */
const scopesOf = (payload: JWTPayload): string[] => {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((scope): scope is string => typeof scope === 'string');
  return [];
};

/** The OAuth client the token was issued to, as each common issuer names it. */
const clientIdOf = (payload: JWTPayload): string | undefined => {
  for (const claim of ['client_id', 'azp', 'cid', 'appid']) {
    const value = payload[claim];
    if (typeof value === 'string') return value;
  }
  return undefined;
};

/** How far ahead of this function's clock an issuer's `iat` may be: clocks synchronised by NTP differ by far less. */
export const clockSkewSeconds = 60;

/**
 * `typ` values a token may carry (RFC 9068 §2.1 `at+jwt`, or plain `JWT`), compared as RFC 8725
 * §3.11 says: case-insensitive, `application/` optional. Without `typ` (Cognito, Entra) a token
 * is judged by its claims alone; any other `typ` (`dpop+jwt`, `logout+jwt`…) is some other token.
 */
const accessTokenTypes = ['at+jwt', 'jwt'];
const isAccessTokenType = (typ: unknown) =>
  typ === undefined || (typeof typ === 'string' && accessTokenTypes.includes(typ.toLowerCase().replace(/^application\//, '')));

/** Why a verified token's times are still unacceptable, or undefined: issued in the future, or living too long. */
const timesProblem = (payload: JWTPayload, maxTokenAgeSeconds: number, now = Math.floor(Date.now() / 1000)): string | undefined => {
  if (typeof payload.iat === 'number' && payload.iat > now + clockSkewSeconds) return 'issued in the future';
  // jose has checked `exp` (required, not passed); a token valid for years is a leaked token's best friend.
  const from = typeof payload.iat === 'number' ? payload.iat : now;
  if ((payload.exp as number) - from > maxTokenAgeSeconds) return 'lives longer than the maximum token age';
  return undefined;
};

const refusalReason = (error: unknown): string => {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return error.claim === 'nbf' ? 'not yet valid' : `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed by a key the issuer does not publish';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSEError) return `malformed (${error.code})`;
  return 'malformed';
};

/**
 * Verifies access tokens of one issuer with `jose`: signature against the issuer's JWKS
 * (fetched once, kept `jwksCacheSeconds`, fetched again at once, at most every 30 s, when a
 * token names an unknown key, so a rotation needs no restart), `iss`, `exp`, `nbf`, `aud` or
 * the client id, `token_use` and `typ` where present, `iat` not in the future, a lifetime
 * within `maxTokenAgeSeconds`, then the scope.
 */
export const accessTokenVerifier = (settings: AccessTokenSettings) => {
  const remote = createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: settings.jwksCacheSeconds * 1000, timeoutDuration: 3_000 });
  // Tells the issuer's failures (unreachable, not 200, not a JWKS) from the token's own.
  const jwks = async (...args: Parameters<typeof remote>) => {
    try {
      return await remote(...args);
    } catch (error) {
      const aboutTheToken = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSEAlgNotAllowed, errors.JOSENotSupported];
      throw aboutTheToken.some((type) => error instanceof type) ? error : new JwksUnavailable(error);
    }
  };
  return async (token: string): Promise<AccessTokenOutcome> => {
    let payload: JWTPayload;
    let typ: unknown;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, jwks, {
        issuer: settings.issuer,
        algorithms,
        requiredClaims: ['exp'],
        ...(settings.audiences.length > 0 ? { audience: settings.audiences } : {}),
      }));
    } catch (error) {
      if (error instanceof JwksUnavailable) return { valid: false, reason: `JWKS unavailable (${error.causeName})`, unavailable: true };
      return { valid: false, reason: refusalReason(error) };
    }
    // Cognito marks ID tokens `token_use: id`; only access tokens authorize a call.
    if (payload.token_use !== undefined && payload.token_use !== 'access') return { valid: false, reason: 'not an access token' };
    if (!isAccessTokenType(typ)) return { valid: false, reason: 'not an access token (typ)' };
    const times = timesProblem(payload, settings.maxTokenAgeSeconds);
    if (times) return { valid: false, reason: times };
    const clientId = clientIdOf(payload);
    if (settings.clientIds.length > 0 && (clientId === undefined || !settings.clientIds.includes(clientId))) {
      return { valid: false, reason: 'issued to another client' };
    }
    return { valid: true, principal: clientId ?? payload.sub ?? 'unknown', scopes: scopesOf(payload) };
  };
};

class JwksUnavailable extends Error {
  readonly causeName: string;
  constructor(cause: unknown) {
    super("The issuer's JWKS cannot be fetched", { cause });
    this.causeName = cause instanceof Error ? cause.name : 'unknown';
  }
}
