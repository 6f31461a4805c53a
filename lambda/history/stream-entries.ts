import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { isReservedItem } from '#provisioning/registry';
import type { CredentialRecord } from '#provisioning/registry';
import { type HistoryEntry, historyGrant } from './history-entry.ts';
import { type LastChange, type RegistryStep, registrySteps } from './last-change.ts';

/** One history entry, and the discriminator of its key: the same for every delivery of one change. */
export interface StreamedEntry {
  entry: HistoryEntry;
  discriminator: string;
}

const imageOf = (image: Record<string, unknown> | undefined) =>
  image ? (unmarshall(image as Record<string, AttributeValue>) as CredentialRecord) : undefined;

const isStep = (action: LastChange['action']): action is RegistryStep => (registrySteps as readonly string[]).includes(action);

/**
 * When an unnamed change happened: the stream says so to the second only, which may read as before
 * the change it replaced (named to the millisecond); it came after that one.
 */
const unnamedAt = (approximateSeconds: number | undefined, before: CredentialRecord | undefined) => {
  const seen = (approximateSeconds ?? 0) * 1000;
  const previous = Math.max(Date.parse(before?.lastChange?.at ?? '') || 0, Date.parse(before?.updatedAt ?? '') || 0);
  return new Date(Math.max(seen, previous + 1)).toISOString();
};

/** Changes that issue a credential: what the record held before was a claim, not a grant. */
const issuing = new Set<LastChange['action']>(['CREATE', 'FINISH_CLAIM']);

/**
 * The history entry one registry stream record (old image → new image) stands for; undefined for a
 * change that is no change to a credential:
 * - items that are not an app's record (keys starting `#`, e.g. the audit's acknowledgements);
 * - steps (a claim, a hold, their release, a takeover), named so by the writer (`#history/last-change`);
 * - a PENDING record removed: a failed create gave its claim up (DeleteItem can name no writer).
 *
 * The writer's `lastChange` says who, why and when. A change whose record carries the same
 * `lastChange` as before (or none) was made around the Registry class: it is recorded all the same,
 * as UNNAMED_CHANGE by `unknown`, at the time the stream saw it.
 */
export const streamedEntry = (record: DynamoDBRecord): StreamedEntry | undefined => {
  const change = record.dynamodb;
  const keys = imageOf(change?.Keys);
  if (!change || !keys || typeof keys.appKey !== 'string') throw new Error(`stream record ${record.eventID} carries no appKey`);
  if (isReservedItem(keys)) return undefined;
  const before = imageOf(change.OldImage);
  const after = imageOf(change.NewImage);
  const named = after?.lastChange && after.lastChange.changeId !== before?.lastChange?.changeId ? after.lastChange : undefined;
  if (named && isStep(named.action)) return undefined;
  if (!after && before?.state === 'PENDING') return undefined;

  const current = after ?? before;
  const action = named?.action ?? 'UNNAMED_CHANGE';
  const grantBefore = named?.before ?? (before && !issuing.has(action) ? historyGrant(before) : undefined);
  const grantAfter = after?.state === 'ACTIVE' ? historyGrant(after) : undefined;
  const at = named?.at ?? unnamedAt(change.ApproximateCreationDateTime, before);
  const entry: HistoryEntry = {
    appKey: keys.appKey,
    at,
    action: action as HistoryEntry['action'],
    source: named?.source ?? 'unknown',
    principal: named?.principal ?? 'unknown',
    requestId: named?.requestId ?? 'unknown',
    ...(current?.credentialType ? { credentialType: current.credentialType } : {}),
    ...((after?.credentialId ?? before?.credentialId) ? { credentialId: (after?.credentialId ?? before?.credentialId) as string } : {}),
    ...(grantBefore ? { before: grantBefore } : {}),
    ...(grantAfter ? { after: grantAfter } : {}),
    ...(named?.deletedCredentialIds?.length ? { deletedCredentialIds: [...named.deletedCredentialIds] } : {}),
    outcome: 'OK',
  };
  // The writer's change id, or the stream's own id of the record: both the same on every delivery.
  return { entry, discriminator: named?.changeId ?? `stream-${record.eventID}` };
};
