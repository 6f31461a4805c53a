import { createHash } from 'node:crypto';
import type { CredentialType } from '#contract/schemas';
import type { PerCredentialQuota } from './capacity-names.ts';

/** The app a credential is for. `appKey` is the registry key: the slug, or a hash when the portal sends none. */
export interface AppIdentity {
  appKey: string;
  appName: string;
  developer: string;
  appSlug?: string;
}

/** What a credential may reach: usage plans matter to API keys, scopes to client credentials. */
export interface Grant {
  apiIds: string[];
  usagePlanIds: string[];
  scopes: string[];
}

/**
 * Where a credential lives beyond the one id the portal knows: an API key made in several places
 * (`account/region`, `#commons/places`) is one key per place, each with its own id. Absent: the
 * credential is the id alone, in the webhook's own place.
 */
export interface Placement {
  placedIds?: Readonly<Record<string, string>>;
}

/** A credential as handed to the developer. `secret` is never stored or logged. */
export interface IssuedCredential extends Placement {
  credentialId: string;
  secret: string;
  customCredentials?: Record<string, unknown>;
}

/** A credential as the registry records it: the id the portal knows, where it lives, and (when known) its app. */
export interface CredentialRef extends Placement {
  credentialId: string;
  /** The app it was made for: needed to make its key in a place it is not yet in. */
  app?: AppIdentity;
}

/** The reference to a recorded credential (a registry record is one). */
export const credentialRef = (record: Placement & { credentialId?: string } & AppIdentity): CredentialRef => ({
  credentialId: record.credentialId as string,
  ...(record.placedIds ? { placedIds: record.placedIds } : {}),
  app: { appKey: record.appKey, appName: record.appName, developer: record.developer, ...(record.appSlug ? { appSlug: record.appSlug } : {}) },
});

/**
 * One per credential kind. Every method leaves AWS either fully changed or as it
 * was: a partial failure is rolled back before the error is thrown, and if the
 * rollback itself fails the error says so (`LeftoversError`).
 */
export interface Provisioner {
  readonly credentialType: CredentialType;
  /** Creates the credential and grants it. */
  create(app: AppIdentity, grant: Grant): Promise<IssuedCredential>;
  /** The existing credential with its secret, or undefined when it no longer exists. */
  reveal(credential: CredentialRef): Promise<IssuedCredential | undefined>;
  /**
   * Brings the credential's grant in line with `grant`, touching only what differs; answers where the
   * credential now lives (a grant may add or drop places), for the registry to record.
   */
  regrant(credential: CredentialRef, desired: Grant): Promise<Placement>;
  /** Deletes the credential, in every place it lives; one already gone is fine. */
  revoke(credential: CredentialRef): Promise<void>;
  /** Deletes whatever an interrupted change left for this app (found by its deterministic name) anywhere, except the ids in `keep`. */
  removeLeftovers(app: AppIdentity, keep?: readonly string[]): Promise<number>;
  /**
   * What AWS itself says of a credential, for when the registry's index cannot yet: undefined when
   * it does not exist (or is not this deployment's to see); else whether this deployment made it and,
   * when AWS names it, the app it was made for (an API key's tag, an app client's unshortened name).
   */
  whereabouts(credentialId: string): Promise<{ ours: boolean; appKey?: string } | undefined>;
  /**
   * Where the credential takes up a quota once granted `grant` (an API key: the `account/region` of each
   * of its keys; an app client: its user pool), counting the places `credential` already lives in.
   */
  placesOf(grant: Grant, credential?: CredentialRef): string[];
  /** What one credential granted `grant` takes of the quotas each credential has on its own (plans per key, scopes per client). */
  quotasTaken(grant: Grant): QuotaTaken[];
}

/** How much of a per-credential quota one credential takes, where. */
export interface QuotaTaken {
  quota: PerCredentialQuota;
  place: string;
  used: number;
  limit: number;
}

/**
 * AWS may hold something of this app that could not be undone: a rollback failed, or a
 * create failed in a way that does not say whether it happened (a time-out, a 5xx, after
 * the SDK's retries). The app's claim is kept, so the call after its lease cleans up.
 */
export class LeftoversError extends Error {
  override readonly name = 'LeftoversError';
  constructor(
    readonly original: unknown,
    readonly rollbackFailure?: unknown,
  ) {
    super(rollbackFailure === undefined ? 'a create may have happened' : 'a partial change could not be rolled back', { cause: original });
  }
}

/** Undoes a partial change, then rethrows what caused it; a failed undo is reported as leftovers. */
export const undoThenRethrow = async (failure: unknown, undo: () => Promise<unknown>): Promise<never> => {
  try {
    await undo();
  } catch (undoFailure) {
    throw new LeftoversError(failure, undoFailure);
  }
  throw failure;
};

/**
 * Runs a step that follows a create whose result cannot be deleted yet (its id is unknown, or an
 * earlier attempt's lost twin may exist): its failure keeps the app's claim, so the next call
 * deletes by name what this one could not reach.
 */
export const leftoversOnFailure = async <T>(step: () => T | Promise<T>): Promise<T> => {
  try {
    return await step();
  } catch (error) {
    throw error instanceof LeftoversError ? error : new LeftoversError(error);
  }
};

/** Cognito app-client names are 1 to 128 characters (API key names may have 1,024). */
const maxResourceNameLength = 128;
/** How the name of every resource the webhook makes starts. */
export const resourceNamePrefix = 'portal-';
/** 16 hex digits of SHA-256: 64 bits, so two long app keys never share a name by chance. */
const digestLength = 16;

/**
 * The name every resource made for an app carries, so leftovers can be found again:
 * `portal-<app key>`, or, when that is over 128 characters, the key's start, `+` and a hash
 * of the whole key. No app key holds a `+`, so a shortened name never equals a plain one.
 * `mark`, if any, ends the name and is kept whole when the name is shortened.
 */
export const resourceName = (app: AppIdentity | { appKey: string }, mark = '') => {
  const plain = `${resourceNamePrefix}${app.appKey.replace(/[^\w.@=,-]/g, '-')}`;
  if (plain.length + mark.length <= maxResourceNameLength) return `${plain}${mark}`;
  const digest = createHash('sha256').update(app.appKey).digest('hex').slice(0, digestLength);
  return `${plain.slice(0, maxResourceNameLength - digestLength - 1 - mark.length)}+${digest}${mark}`;
};

/**
 * App clients cannot be tagged, and two deployments may share an imported user pool: each client's
 * name ends with its deployment's mark, `@` and 8 hex digits of the SHA-256 of the deployment id.
 * No app key holds an `@`, so the mark is never part of one. A name without a mark was made before
 * marks existed and, like an API key without a deployment tag, counts as any deployment's.
 */
export const deploymentMark = (deploymentId: string) => `@${createHash('sha256').update(deploymentId).digest('hex').slice(0, 8)}`;
const markPattern = /@[0-9a-f]{8}$/;

/** The name of an app client of `deploymentId` for this app. */
export const appClientName = (app: AppIdentity | { appKey: string }, deploymentId: string) => resourceName(app, deploymentMark(deploymentId));

/** A name without its deployment's mark: what `resourceName` gives for its app. */
export const withoutMark = (name: string) => name.replace(markPattern, '');

/** Whether an app client's name is one this deployment gives (or gave, before names carried marks). */
export const isOwnAppClientName = (name: string, deploymentId: string) =>
  name.startsWith(resourceNamePrefix) && (!markPattern.test(name) || name.endsWith(deploymentMark(deploymentId)));

/** The app key a resource name stands for, when the name was not shortened and so still holds it whole. */
export const appKeyOfResourceName = (name: string): string | undefined => {
  const unmarked = withoutMark(name);
  if (!unmarked.startsWith(resourceNamePrefix)) return undefined;
  const appKey = unmarked.slice(resourceNamePrefix.length);
  return appKey !== '' && resourceName({ appKey }, name.slice(unmarked.length)) === name ? appKey : undefined;
};
