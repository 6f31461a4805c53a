import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type BasicCredential, parseBasicAuthorization } from '../basic-auth.ts';
import { apiKeyGrammar, bearerTokenGrammar, maxCredentialLength } from './credential-grammar.ts';

/** What a request presents to authenticate with, read before any header normalization. */
export type PresentedCredential =
  | { kind: 'none' }
  /** Two credentials, or a header sent twice: which one counts would be a guess. */
  | { kind: 'ambiguous' }
  | { kind: 'malformed'; scheme: 'basic' | 'bearer' | 'other' }
  | { kind: 'basic'; credential: BasicCredential }
  | { kind: 'bearer'; token: string }
  | { kind: 'apiKey'; key: string };

type HeaderMaps = Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>;

// RFC 6750 §2.1: "Bearer" (any case), one or more spaces (RFC 7235 `1*SP`), then the token (a b64token).
const bearerHeader = /^bearer +(.*)$/is;

/**
 * The one value of a header, whatever the letter case of its name, or `ambiguous` when it
 * is sent twice or `headers` and `multiValueHeaders` disagree (API Gateway fills both
 * alike, so a difference means a forged or broken event).
 */
const headerValue = (event: HeaderMaps, name: string): { value?: string } | 'ambiguous' => {
  const lower = name.toLowerCase();
  const named = <T>(map: Record<string, T> | null | undefined) =>
    Object.entries(map ?? {})
      .filter(([key]) => key.toLowerCase() === lower)
      .map(([, value]) => value);
  const single = named(event.headers);
  const multi = named(event.multiValueHeaders).flat();
  if (single.length > 1 || multi.length > 1) return 'ambiguous';
  if (multi.length === 1 && multi[0] !== single[0]) return 'ambiguous';
  return single[0] === undefined ? {} : { value: single[0] };
};

/**
 * Exactly one credential, in one header, well-formed for its scheme: anything else is
 * `none`, `ambiguous` or `malformed`, and never reaches a comparison or a verifier.
 */
export const presentedCredential = (event: HeaderMaps, apiKeyHeader: string | undefined): PresentedCredential => {
  const authorization = headerValue(event, 'authorization');
  const apiKey = apiKeyHeader === undefined ? {} : headerValue(event, apiKeyHeader);
  if (authorization === 'ambiguous' || apiKey === 'ambiguous') return { kind: 'ambiguous' };
  const header = authorization.value;
  const key = apiKey.value;
  if (key !== undefined) {
    if (header !== undefined && header !== '') return { kind: 'ambiguous' };
    return key.length <= maxCredentialLength && apiKeyGrammar.test(key) ? { kind: 'apiKey', key } : { kind: 'malformed', scheme: 'other' };
  }
  if (header === undefined || header === '') return { kind: 'none' };
  // A bearer token too long to be one is still a bearer token the caller must hear about (invalid_token).
  if (header.length > maxCredentialLength) return { kind: 'malformed', scheme: /^bearer(?: |$)/i.test(header) ? 'bearer' : 'other' };
  if (/^basic(?: |$)/i.test(header)) {
    const credential = parseBasicAuthorization(event);
    return credential ? { kind: 'basic', credential } : { kind: 'malformed', scheme: 'basic' };
  }
  if (/^bearer(?: |$)/i.test(header)) {
    const token = bearerHeader.exec(header)?.[1];
    return token !== undefined && bearerTokenGrammar.test(token) ? { kind: 'bearer', token } : { kind: 'malformed', scheme: 'bearer' };
  }
  return { kind: 'malformed', scheme: 'other' };
};
