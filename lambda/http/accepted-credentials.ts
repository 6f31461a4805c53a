import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { unavailable } from '#contract/errors';
import type { BasicCredential } from './basic-auth.ts';
import { logger } from '#commons/powertools';

const credentialSetNames = ['basic', 'bearerTokens', 'apiKeys'];

/** A pair may carry other fields, but not credential sets: they would be dropped, unseen, with the pair's shape. */
const Pair = z.pipe(
  z
    .looseObject({
      username: z.string().check(
        z.minLength(1),
        z.refine((name) => !name.includes(':'), 'a username cannot contain ":"'),
      ),
      password: z.string().check(z.minLength(8)),
    })
    .check(z.refine((pair) => !credentialSetNames.some((name) => name in pair), 'a pair cannot also hold credential sets: put it in "basic"')),
  z.transform(({ username, password }): BasicCredential => ({ username, password })),
);

/** A shared secret of at least 32 characters: long enough that guessing it is hopeless. */
const sharedSecret = z.string().check(z.minLength(32), z.maxLength(4096), z.regex(/^[\x21-\x7e]+$/, 'visible ASCII without spaces'));
const credentialId = z.string().check(z.regex(/^[\w.@:-]{1,64}$/, 'an id of letters, digits and ".@:_-"'));

const uniqueIds = (list: { id: string }[]) => new Set(list.map((item) => item.id)).size === list.length;
const bearerTokenList = z.array(z.object({ id: credentialId, token: sharedSecret })).check(z.refine(uniqueIds, 'ids must be unique'));
const apiKeyList = z.array(z.object({ id: credentialId, key: sharedSecret })).check(z.refine(uniqueIds, 'ids must be unique'));

const pairList = z.array(Pair).check(z.minLength(1));

/**
 * Named credential sets, EventNative-style: several live at once, each with an id that the
 * logs name, so one can be added before another is retired.
 */
const CredentialSets = z.strictObject({
  basic: z.optional(pairList),
  bearerTokens: z.optional(bearerTokenList),
  apiKeys: z.optional(apiKeyList),
});

export interface NamedSecret {
  id: string;
  secret: string;
}

export interface AcceptedCredentials {
  basic: readonly BasicCredential[];
  bearerTokens: readonly NamedSecret[];
  apiKeys: readonly NamedSecret[];
}

/** One pair, a list of pairs (both as before), or named credential sets of every kind. */
export const CredentialsSecret = z.union([
  z.pipe(
    Pair,
    z.transform((pair): AcceptedCredentials => ({ basic: [pair], bearerTokens: [], apiKeys: [] })),
  ),
  z.pipe(
    pairList,
    z.transform((pairs): AcceptedCredentials => ({ basic: pairs, bearerTokens: [], apiKeys: [] })),
  ),
  z.pipe(
    CredentialSets,
    z.transform(
      (sets): AcceptedCredentials => ({
        basic: sets.basic ?? [],
        bearerTokens: (sets.bearerTokens ?? []).map(({ id, token }) => ({ id, secret: token })),
        apiKeys: (sets.apiKeys ?? []).map(({ id, key }) => ({ id, secret: key })),
      }),
    ),
  ),
]);

/**
 * Reads the accepted credentials from Secrets Manager, cached for `cacheSeconds` so a
 * rotation reaches every container within that time without a read per request.
 */
export const secretBackedCredentials = (secretId: string, cacheSeconds: number) => async (): Promise<AcceptedCredentials> => {
  let raw: unknown;
  try {
    raw = await getSecret(secretId, { maxAge: cacheSeconds, transform: 'json' });
  } catch (error) {
    logger.error('Cannot read the credentials secret', { secretId, errorName: (error as Error).name });
    throw unavailable('AUTH_UNAVAILABLE', 'The webhook cannot check credentials right now; retry shortly.', error);
  }
  const parsed = CredentialsSecret.safeParse(raw);
  if (!parsed.success) {
    // Only the paths of the problems are logged: the values are secrets.
    logger.error('The credentials secret is malformed', { secretId, problems: parsed.error.issues.map((i) => i.path.join('.')) });
    throw unavailable('AUTH_MISCONFIGURED', 'The webhook is misconfigured and cannot check credentials.');
  }
  return parsed.data;
};
