import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { strictUtf8 } from './strict-utf8.ts';

export interface BasicCredential {
  username: string;
  password: string;
}

// RFC 7617: scheme is case-insensitive, then (RFC 7235's 1*SP) one or more spaces, no other
// whitespace, and a base64 token (RFC 4648 alphabet, padded).
const basicHeader = /^basic +((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/i;

/** Every Authorization value the event carries, whatever the letter case of the header names. */
const authorizationValues = (event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>) => {
  const named = <T>(map: Record<string, T> | null | undefined) =>
    Object.entries(map ?? {})
      .filter(([name]) => name.toLowerCase() === 'authorization')
      .map(([, value]) => value);
  return { single: named(event.headers), multi: named(event.multiValueHeaders).flat() };
};

/**
 * The credential the caller presented, or undefined for anything that is not exactly one
 * well-formed Basic header. Reads the event as API Gateway built it (before header names
 * are normalized), so that two headers differing only in case cannot hide one another.
 */
export const parseBasicAuthorization = (event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>): BasicCredential | undefined => {
  const { single, multi } = authorizationValues(event);
  // Two Authorization headers are ambiguous: refuse rather than guess which one counts.
  if (single.length > 1 || multi.length > 1) return undefined;
  // API Gateway fills both maps with the same value; a difference means a forged event.
  const header = single[0];
  if (multi.length === 1 && multi[0] !== header) return undefined;
  const token = header === undefined ? undefined : basicHeader.exec(header)?.[1];
  if (!token) return undefined;
  let decoded: string;
  try {
    decoded = strictUtf8.decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
};

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * True when the presented pair equals one accepted pair. Every pair is compared in full,
 * on fixed-length digests, so the time taken tells nothing about which part differed.
 */
export const matchesAny = (presented: BasicCredential, accepted: readonly BasicCredential[]): boolean => {
  const user = digest(presented.username);
  const password = digest(presented.password);
  let matched = false;
  for (const pair of accepted) {
    const userMatches = timingSafeEqual(user, digest(pair.username));
    const passwordMatches = timingSafeEqual(password, digest(pair.password));
    matched = (userMatches && passwordMatches) || matched;
  }
  return matched;
};
