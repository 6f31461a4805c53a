import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { unavailable } from '#contract/errors';
import type { BasicCredential } from './basic-auth.ts';
import { logger } from '#commons/powertools';

const Pair = z.object({
  username: z.string().check(z.minLength(1), z.refine((name) => !name.includes(':'), 'a username cannot contain ":"')),
  password: z.string().check(z.minLength(8)),
});

/** One pair, or a list of pairs: a second pair is added before the first is retired. */
export const BasicCredentialsSecret = z.union([
  z.pipe(Pair, z.transform((pair) => [pair])),
  z.array(Pair).check(z.minLength(1)),
]);

/**
 * Reads the accepted Basic pairs from Secrets Manager, cached for `cacheSeconds` so a
 * rotation reaches every container within that time without a read per request.
 */
export const secretBackedCredentials =
  (secretId: string, cacheSeconds: number) => async (): Promise<readonly BasicCredential[]> => {
    let raw: unknown;
    try {
      raw = await getSecret(secretId, { maxAge: cacheSeconds, transform: 'json' });
    } catch (error) {
      logger.error('Cannot read the Basic-auth secret', { secretId, errorName: (error as Error).name });
      throw unavailable('AUTH_UNAVAILABLE', 'The webhook cannot check credentials right now; retry shortly.', error);
    }
    const parsed = BasicCredentialsSecret.safeParse(raw);
    if (!parsed.success) {
      // Only the paths of the problems are logged: the values are secrets.
      logger.error('The Basic-auth secret is malformed', { secretId, problems: parsed.error.issues.map((i) => i.path.join('.')) });
      throw unavailable('AUTH_MISCONFIGURED', 'The webhook is misconfigured and cannot check credentials.');
    }
    return parsed.data;
  };
