import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { unavailable } from '#contract/errors';
import { apiKeyGrammar, bearerTokenGrammar } from './authentication/credential-grammar.ts';
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

/** A shared secret's value is checked by `presentable`, which can name its entry's id without showing the value. */
const sharedSecret = z.string();
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

/** Why a shared secret cannot serve, or undefined: at least 32 characters (guessing is hopeless), and no more than a header takes. */
const secretProblem = (secret: string, grammar: RegExp, rule: string) => {
  if (secret.length < 32) return 'is shorter than 32 characters, so guessable';
  if (secret.length > 4096) return 'is longer than 4096 characters';
  return grammar.test(secret) ? undefined : `cannot be sent as ${rule}, so every request presenting it would be refused`;
};

/**
 * Every token and key must be one a request can present (credential-grammar.ts): a value
 * outside the header's grammar would be stored without complaint and refused forever. The
 * issue names the entry's id, never its value.
 */
const presentable = z.superRefine((credentials: AcceptedCredentials, ctx) => {
  const sets = [
    { set: 'bearerTokens', entries: credentials.bearerTokens, grammar: bearerTokenGrammar, rule: 'a bearer token (RFC 6750 b64token)' },
    { set: 'apiKeys', entries: credentials.apiKeys, grammar: apiKeyGrammar, rule: 'a header value (visible ASCII without spaces)' },
  ];
  for (const { set, entries, grammar, rule } of sets) {
    entries.forEach((entry, index) => {
      const problem = secretProblem(entry.secret, grammar, rule);
      if (!problem) return;
      ctx.addIssue({ code: 'custom', path: [set, index], message: `${set} entry "${entry.id}" ${problem}`, params: { credentialId: entry.id } });
    });
  }
});

/** One pair, a list of pairs (both as before), or named credential sets of every kind. */
export const CredentialsSecret = z
  .union([
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
  ])
  .check(presentable);

/** The ids of the entries whose values cannot serve (too short, too long, or never presentable), from the parse issues. */
const unusableIds = (issues: readonly z.core.$ZodIssue[]) =>
  issues.flatMap((issue) => {
    const id = issue.code === 'custom' ? issue.params?.credentialId : undefined;
    return typeof id === 'string' ? [id] : [];
  });

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
    // Only the paths of the problems, and the ids of unusable entries, are logged: the values are secrets.
    const unusable = unusableIds(parsed.error.issues);
    logger.error('The credentials secret is malformed', {
      secretId,
      problems: parsed.error.issues.map((i) => i.path.join('.')),
      ...(unusable.length > 0 ? { unusable } : {}),
    });
    const which = unusable.length > 0 ? `: the value of ${unusable.map((id) => `"${id}"`).join(', ')} cannot serve as a credential` : '';
    throw unavailable('AUTH_MISCONFIGURED', `The webhook is misconfigured and cannot check credentials${which}.`);
  }
  return parsed.data;
};
