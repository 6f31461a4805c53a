import { randomUUID } from 'node:crypto';
import type { Grant } from '#provisioning/provisioner';
import { currentCaller } from './caller.ts';
import { type HistoryAction, historyGrant } from './history-entry.ts';

/**
 * Steps of a change rather than changes: taking or giving up an app (a create's claim, a change's
 * hold, their release, a takeover). Who holds an app is not a change to its credential: the history
 * records the change the step serves once it lands, or the failure the caller records.
 */
export const registrySteps = ['CLAIM', 'HOLD', 'RELEASE', 'TAKE_OVER'] as const;
export type RegistryStep = (typeof registrySteps)[number];

/** What a writer says of one change beyond who and when. */
export interface ChangeDetails {
  /** Credentials the change deleted besides the record's own (RELEASE_CLAIM: what a dead create left). */
  deletedCredentialIds?: string[];
  /** What AWS held before, when it differed from the record (REGRANT brings AWS back to the record). */
  before?: Grant;
}

/**
 * Written on the record by every registry write, in the same write: who changed it, why and when.
 * The registry's stream carries it to the history (`stream-entries.ts`), so no writer can change a
 * record and leave no entry, whether or not it knows of the history.
 */
export interface LastChange extends ChangeDetails {
  action: HistoryAction | RegistryStep;
  source: string;
  principal: string;
  requestId: string;
  at: string;
  /** Unique per write: part of the history entry's key, so that a redelivered stream record overwrites its entry. */
  changeId: string;
}

/** The change a write makes now, on behalf of whoever the current request is for (`withCaller`). */
export const lastChange = (action: LastChange['action'], at: string, details: ChangeDetails = {}): LastChange => {
  const { source, principal, requestId } = currentCaller();
  return {
    action,
    source,
    principal,
    requestId,
    at,
    changeId: randomUUID(),
    ...(details.deletedCredentialIds ? { deletedCredentialIds: [...details.deletedCredentialIds] } : {}),
    ...(details.before ? { before: historyGrant(details.before) } : {}),
  };
};
