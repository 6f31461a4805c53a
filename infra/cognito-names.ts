import { createHash } from 'node:crypto';

/**
 * Names Cognito accepts, derived from the credential policy's scopes and the stack, so
 * that a configuration CDK synthesizes is one Cognito deploys.
 */

/** Cognito's limits on resource servers (quotas page; the first is per pool, not adjustable). */
export const MAX_RESOURCE_SERVERS_PER_POOL = 25;
export const MAX_SCOPES_PER_RESOURCE_SERVER = 100;
const MAX_IDENTIFIER_LENGTH = 256;

/** One resource server the stack creates. */
export interface ResourceServerPlan {
  /** Construct id, unique among the servers: letters and digits of the identifier (plus a hash on a clash). */
  readonly id: string;
  /** `api.example.com/orders` of `api.example.com/orders/read`: what tokens' scopes start with. */
  readonly identifier: string;
  /** A name Cognito accepts (`[\w\s+=,.@-]+`): the identifier with every other character replaced by `-`. */
  readonly name: string;
  readonly scopeNames: string[];
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * The resource servers the scopes (`identifier/scope-name`, the identifier may hold `/`) need.
 * Throws, naming the scope and the limit, for what Cognito would refuse at deployment.
 */
export const resourceServersFor = (scopes: readonly string[]): ResourceServerPlan[] => {
  const byIdentifier = new Map<string, string[]>();
  for (const scope of [...new Set(scopes)].sort()) {
    // Identifiers may hold "/" (URLs are common); scope names may not.
    const slash = scope.lastIndexOf('/');
    const identifier = scope.slice(0, slash);
    if (identifier.length > MAX_IDENTIFIER_LENGTH) {
      throw new Error(`credentialPolicy scope "${scope}": a resource server identifier holds at most ${MAX_IDENTIFIER_LENGTH} characters`);
    }
    byIdentifier.set(identifier, [...(byIdentifier.get(identifier) ?? []), scope.slice(slash + 1)]);
  }
  if (byIdentifier.size > MAX_RESOURCE_SERVERS_PER_POOL) {
    throw new Error(
      `credentialPolicy scopes name ${byIdentifier.size} resource servers; a Cognito user pool holds at most ${MAX_RESOURCE_SERVERS_PER_POOL}: share identifiers between APIs`,
    );
  }
  const ids = new Set<string>();
  return [...byIdentifier].map(([identifier, scopeNames]) => {
    if (scopeNames.length > MAX_SCOPES_PER_RESOURCE_SERVER) {
      throw new Error(
        `credentialPolicy scopes give resource server "${identifier}" ${scopeNames.length} scopes; Cognito allows ${MAX_SCOPES_PER_RESOURCE_SERVER}`,
      );
    }
    // The id of earlier versions, kept so that existing resource servers are not replaced.
    const plain = `ResourceServer${identifier.replace(/[^A-Za-z0-9]/g, '')}`;
    const id = ids.has(plain) ? `${plain}${shortHash(identifier)}` : plain;
    ids.add(id);
    return { id, identifier, name: identifier.replace(/[^\w\s+=,.@-]/g, '-'), scopeNames };
  });
};

/** Cognito refuses domain prefixes holding these words. */
const reservedWords = /aws|amazon|cognito/g;

/**
 * The default `<prefix>.auth.<region>.amazoncognito.com` prefix: the stack's name and the account,
 * so that two stacks of one account and Region (staging beside production) do not collide, and
 * two accounts never do. At most 63 lower-case letters, digits and `-`.
 */
export const defaultDomainPrefix = (stackName: string, account: string) => {
  const readable =
    stackName
      .toLowerCase()
      .replace(reservedWords, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'portal-credentials';
  // 63 characters: the name, "-" and a 12-digit account id; a long name keeps a hash of the whole.
  const fitted = readable.length <= 50 ? readable : `${readable.slice(0, 41).replace(/-+$/, '')}-${shortHash(stackName)}`;
  return `${fitted}-${account}`;
};
