import type { CredentialType } from '#contract/schemas';
import type { Grant } from '#provisioning/provisioner';
import { currentCaller } from './caller.ts';

/**
 * What changed: the webhook's own operations, and the audit's repairs. UNNAMED_CHANGE: a change to a
 * registry record by a writer that did not say who it is (it wrote around the Registry class).
 */
export type HistoryAction =
  | 'CREATE'
  | 'UPDATE'
  | 'REVOKE'
  | 'MARK_GONE'
  | 'DELETE_ORPHAN'
  | 'MARK_REVOKED'
  | 'REGRANT'
  | 'FINISH_CLAIM'
  | 'RELEASE_CLAIM'
  | 'UNNAMED_CHANGE';

/** One change to one app's credential. Built from named fields only: never a secret. */
export interface HistoryEntry {
  appKey: string;
  /** ISO 8601; with `sequence`, the entry's sort key. */
  at: string;
  action: HistoryAction;
  source: string;
  principal: string;
  requestId: string;
  credentialType?: CredentialType;
  credentialId?: string;
  before?: Grant;
  after?: Grant;
  /** Credentials the change deleted that the record did not hold (an orphan, what a dead create left). */
  deletedCredentialIds?: string[];
  /** OK, or the error code the change ended with. */
  outcome: string;
}

export interface HistoryChange {
  appKey: string;
  action: HistoryAction;
  credentialType?: CredentialType;
  credentialId?: string;
  before?: Grant;
  after?: Grant;
  deletedCredentialIds?: string[];
  outcome?: string;
}

/** Receives each change once it happened; must never fail the change it records. */
export interface HistoryRecorder {
  record(entry: HistoryEntry): Promise<void>;
}

/** A copy of a grant's three lists, and nothing else a record holds. */
export const historyGrant = (value: Grant | undefined) =>
  value && { apiIds: [...(value.apiIds ?? [])], usagePlanIds: [...(value.usagePlanIds ?? [])], scopes: [...(value.scopes ?? [])] };

/** The entry for a change made now, on behalf of whoever the current request is for. */
export const historyEntry = (change: HistoryChange, now: Date = new Date()): HistoryEntry => {
  const caller = currentCaller();
  const before = historyGrant(change.before);
  const after = historyGrant(change.after);
  return {
    appKey: change.appKey,
    at: now.toISOString(),
    action: change.action,
    source: caller.source,
    principal: caller.principal,
    requestId: caller.requestId,
    ...(change.credentialType ? { credentialType: change.credentialType } : {}),
    ...(change.credentialId ? { credentialId: change.credentialId } : {}),
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    ...(change.deletedCredentialIds ? { deletedCredentialIds: [...change.deletedCredentialIds] } : {}),
    outcome: change.outcome ?? 'OK',
  };
};
