import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** One signing key of the test issuer. */
export interface IssuerKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export const issuerKey = async (kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<IssuerKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
};

/**
 * An OAuth issuer for tests: its JWKS served over HTTP on 127.0.0.1 (what `jose` fetches),
 * with the published keys and failures switchable, and access tokens minted with any claims.
 */
export const startTokenIssuer = async (issuer: string) => {
  const state = { published: [] as IssuerKey[], failing: false, fetches: 0 };
  const server = createServer((_request, response) => {
    state.fetches += 1;
    if (state.failing) {
      response.writeHead(503).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: state.published.map((key) => key.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    state,
    publish: (...keys: IssuerKey[]) => {
      state.published = keys;
    },
    /** An access token signed with `key`; `claims` override the defaults, `undefined` removes one. */
    mint: (key: IssuerKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = {
        iss: issuer,
        sub: 'caller-app',
        client_id: 'caller-app',
        token_use: 'access',
        scope: 'webhook/invoke',
        iat: now,
        exp: now + 300,
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg: key.publicJwk.alg as string, kid: key.kid, ...header }).sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** A token whose header says `alg: none` and carries no signature (RFC 7519 §6 "unsecured JWT"). */
export const unsecuredToken = (payload: JWTPayload) => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
};
