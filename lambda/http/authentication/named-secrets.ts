import { createHash, timingSafeEqual } from 'node:crypto';
import type { NamedSecret } from '../accepted-credentials.ts';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The id of the accepted secret equal to the presented one, or undefined. Every secret
 * is compared, on fixed-length digests, so the time taken tells neither which one matched
 * nor how much of one did.
 */
export const matchingSecretId = (presented: string, accepted: readonly NamedSecret[]): string | undefined => {
  const presentedDigest = digest(presented);
  let matched: string | undefined;
  for (const candidate of accepted) {
    const equal = timingSafeEqual(presentedDigest, digest(candidate.secret));
    matched = equal && matched === undefined ? candidate.id : matched;
  }
  return matched;
};
