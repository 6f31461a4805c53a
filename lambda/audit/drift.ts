import { type PlaceId, placeId, planPlace } from '#commons/places';
import type { CredentialType } from '#contract/schemas';
import { appKeyOfResourceName, resourceName, withoutMark } from '#provisioning/provisioner';
import type { CredentialRecord } from '#provisioning/registry';
import { type Acknowledgement, acknowledges, inForce } from './acknowledgements.ts';
import { type DriftKind, driftKinds, inProgressKind } from './drift-kinds.ts';
import type { ForeignCredential, Inventory, InventoryCredential } from './inventory.ts';
import { placedKeysOf, placesOfPlans, primaryPlaceOf } from '#provisioning/key-places';

export { type DriftKind, driftKinds, inProgressKind } from './drift-kinds.ts';

export interface Drift {
  kind: DriftKind;
  credentialType: CredentialType;
  /** The app, when a registry record names it. */
  appKey?: string;
  credentialId?: string;
  /** An API key's place (`account/region`): ORPHAN and DISABLED_KEY, the key's; GONE, the place of the key the portal knows. */
  place?: PlaceId;
  /** One sentence for the operator. */
  detail: string;
  /** GRANT_MISMATCH: what the registry recorded, and what AWS holds. */
  recorded?: string[];
  actual?: string[];
  /** ORPHAN: the credential's name in AWS. */
  name?: string;
  /** GRANT_MISMATCH: the places where a key the registry records no longer exists (the repair makes it again, with the same value). */
  missingIn?: PlaceId[];
  /** STUCK_CLAIM: what the dead create left in AWS. */
  leftovers?: string[];
  /** STUCK_CLAIM of API keys: each leftover with its place. */
  placedLeftovers?: { place: PlaceId; credentialId: string }[];
  /** STUCK_CLAIM of API keys: the places the claim's plans are in, the first holding the key the portal would be answered. */
  claimPlaces?: PlaceId[];
  /** When the record was last changed; a repair acts only if it still is. */
  recordUpdatedAt?: string;
}

/** A change the webhook is making right now: not drift, never counted nor repaired. */
export interface ChangeInProgress extends Omit<Drift, 'kind'> {
  kind: typeof inProgressKind;
  /** Until when the change holds the app; past it, the next audit judges what it left. */
  leaseExpiresAt: string;
}

/** Drift an operator acknowledged as a known exception, until the acknowledgement expires. */
export interface AcknowledgedDrift extends Drift {
  acknowledgement: Acknowledgement;
}

export interface AuditReport {
  checkedAt: string;
  checkedTypes: CredentialType[];
  /** The places whose API keys were read. */
  places: PlaceId[];
  /**
   * False when the registry holds credentials (active or being made) of a type this audit did not
   * read from AWS: `unchecked` counts them, and nothing can be said about them, drift or not.
   */
  complete: boolean;
  unchecked: Partial<Record<CredentialType, number>>;
  totals: { records: number; apiKeys: number; appClients: number; foreign: number };
  /** The drift that counts: every finding but the acknowledged ones. */
  counts: Record<DriftKind, number>;
  drift: Drift[];
  inProgress: ChangeInProgress[];
  acknowledged: AcknowledgedDrift[];
  foreign: ForeignCredential[];
}

const sorted = (values: readonly string[]) => [...new Set(values)].sort();
const sameSet = (a: readonly string[], b: readonly string[]) => sorted(a).join('\n') === sorted(b).join('\n');

/** What the registry granted, in the terms AWS holds for this type. */
export const recordedGrant = (record: CredentialRecord) => (record.credentialType === 'API_KEY' ? record.usagePlanIds : record.scopes) ?? [];

/**
 * Compares the registry with AWS. Pure: everything it needs is in the inventory, so the
 * same inventory always gives the same report.
 *
 * @param linkableOnly the inventory read only the deployment's linkable plans: recorded
 *   plans outside them cannot be checked and are left out of the comparison.
 */
export const findDrift = (inventory: Inventory, linkableOnly: boolean): AuditReport => {
  const drift: Drift[] = [];
  const { home } = inventory;
  const homeId = placeId(home);
  /** A credential's identity: an API key's id is unique only in its place. */
  const key = (type: CredentialType, id: string, place?: PlaceId) => (type === 'API_KEY' ? `${type}:${place ?? homeId}|${id}` : `${type}:${id}`);
  const keyOf = (credential: InventoryCredential) =>
    key(credential.credentialType, credential.credentialId, credential.credentialType === 'API_KEY' ? credential.place : undefined);
  const inAws = new Map(inventory.credentials.map((credential) => [keyOf(credential), credential]));
  const checked = new Set(inventory.checkedTypes);
  const checkedPlans = new Set(inventory.usagePlanIds);
  const checkedPlaces = new Set(inventory.places);
  /** Credentials some record accounts for: the active one, or what a PENDING claim is making. */
  const accounted = new Set<string>();
  /** Every credential a record names: an API key record names one key per place. */
  const recordsById = new Map<string, CredentialRecord>();
  const recordsByName = new Map<string, CredentialRecord>();
  const placesOf = (record: CredentialRecord): [PlaceId | undefined, string][] =>
    record.credentialType === 'API_KEY' ? Object.entries(placedKeysOf(record, home)) : record.credentialId ? [[undefined, record.credentialId]] : [];
  for (const record of inventory.records) {
    for (const [place, id] of placesOf(record)) recordsById.set(key(record.credentialType, id, place), record);
    recordsByName.set(`${record.credentialType}:${resourceName(record)}`, record);
  }
  const namedFor = (record: CredentialRecord) =>
    inventory.credentials.filter(
      (credential) => credential.credentialType === record.credentialType && withoutMark(credential.name) === resourceName(record),
    );

  const inProgress: ChangeInProgress[] = [];
  const unchecked: Partial<Record<CredentialType, number>> = {};
  const leaseRuns = (record: CredentialRecord) => record.leaseExpiresAt !== undefined && record.leaseExpiresAt >= inventory.readAt;
  const notSeen = (record: CredentialRecord) => {
    unchecked[record.credentialType] = (unchecked[record.credentialType] ?? 0) + 1;
  };

  for (const record of inventory.records) {
    if (!checked.has(record.credentialType)) {
      // A revoked record claims nothing exists; an active or pending one does, and this audit cannot see it.
      if (record.state !== 'REVOKED') notSeen(record);
      continue;
    }
    const base = { credentialType: record.credentialType, appKey: record.appKey, recordUpdatedAt: record.updatedAt };
    if (record.state === 'PENDING') {
      // Running or not, the claim accounts for what carries its app's name, in every place.
      const made = namedFor(record).filter((credential) => recordsById.get(keyOf(credential))?.state !== 'ACTIVE');
      for (const credential of made) accounted.add(keyOf(credential));
      if (leaseRuns(record)) {
        inProgress.push({
          ...base,
          kind: inProgressKind,
          leaseExpiresAt: new Date(record.leaseExpiresAt as number).toISOString(),
          detail: `a create is under way (claimed at ${record.updatedAt}); ${made.length} credential(s) made so far`,
        });
      } else {
        const leftovers = made.map((credential) => credential.credentialId).sort();
        const apiKeys = record.credentialType === 'API_KEY';
        const claimPlaces = apiKeys ? placesOfPlans(record.usagePlanIds ?? [], home) : undefined;
        const placedLeftovers = made
          .flatMap((credential) =>
            credential.credentialType === 'API_KEY' ? [{ place: credential.place, credentialId: credential.credentialId }] : [],
          )
          .sort((a, b) => a.place.localeCompare(b.place) || a.credentialId.localeCompare(b.credentialId));
        const where =
          apiKeys && inventory.places.length > 1
            ? ` (${placedLeftovers.map(({ place, credentialId }) => `${credentialId} in ${place}`).join(', ')})`
            : '';
        drift.push({
          ...base,
          kind: 'STUCK_CLAIM',
          leftovers,
          ...(apiKeys ? { placedLeftovers, claimPlaces } : {}),
          detail: `a create claimed this app at ${record.updatedAt} and never finished; ${leftovers.length} credential(s) left in AWS${where}`,
        });
      }
      continue;
    }
    if (record.state !== 'ACTIVE' || !record.credentialId) continue;
    if (record.credentialType === 'API_KEY') {
      judgeApiKeys(record);
      continue;
    }
    const credential = inAws.get(key(record.credentialType, record.credentialId));
    if (record.claimToken !== undefined && leaseRuns(record)) {
      // An update, revoke or repeated create holds it: its plans, scopes or very existence may be half-way.
      if (credential) accounted.add(keyOf(credential));
      inProgress.push(changeInProgress(record, base));
      continue;
    }
    if (!credential) {
      drift.push({
        ...base,
        kind: 'GONE',
        credentialId: record.credentialId,
        detail: 'the registry holds it as active, but it no longer exists in AWS',
      });
      continue;
    }
    accounted.add(keyOf(credential));
    const actual = actualGrant(credential);
    const recorded = recordedGrant(record);
    if (!sameSet(recorded, actual)) {
      drift.push({
        ...base,
        kind: 'GRANT_MISMATCH',
        credentialId: credential.credentialId,
        recorded: sorted(recorded),
        actual: sorted(actual),
        detail: `scopes in AWS [${sorted(actual).join(', ')}] differ from the registry's [${sorted(recorded).join(', ')}]`,
      });
    }
  }

  /**
   * An active API key record: every place's key (the registry's `placedIds`). The key the portal knows
   * gone is GONE; a key gone elsewhere, or links that differ in any place, is GRANT_MISMATCH (the
   * regrant makes the key again with the developer's value, and relinks); a key disabled anywhere is DISABLED_KEY.
   */
  function judgeApiKeys(record: CredentialRecord) {
    const base = { credentialType: record.credentialType, appKey: record.appKey, recordUpdatedAt: record.updatedAt };
    const credentialId = record.credentialId as string;
    const placed = Object.entries(placedKeysOf(record, home));
    // A place this audit does not reach (no target covers it any more): nothing can be said of its key.
    if (placed.some(([place]) => !checkedPlaces.has(place))) notSeen(record);
    const seen = placed.filter(([place]) => checkedPlaces.has(place));
    const found = seen.flatMap(([place, id]) => {
      const credential = inAws.get(key('API_KEY', id, place));
      return credential?.credentialType === 'API_KEY' ? [credential] : [];
    });
    for (const credential of found) accounted.add(keyOf(credential));
    if (record.claimToken !== undefined && leaseRuns(record)) {
      inProgress.push(changeInProgress(record, base));
      return;
    }
    const primary = primaryPlaceOf(record, home);
    if (!checkedPlaces.has(primary)) return;
    if (!found.some((credential) => credential.place === primary && credential.credentialId === credentialId)) {
      // Whatever is left elsewhere goes with the record: marking it revoked deletes those keys too.
      drift.push({
        ...base,
        kind: 'GONE',
        credentialId,
        place: primary,
        detail: `the registry holds it as active, but it no longer exists in AWS${placed.length > 1 ? ` (${primary})` : ''}`,
      });
      return;
    }
    const missingIn = seen
      .filter(([place, id]) => !found.some((credential) => credential.place === place && credential.credentialId === id))
      .map(([place]) => place);
    const actual = found.flatMap((credential) => credential.usagePlanIds);
    const inCheckedPlace = (plan: string) => checkedPlaces.has(placeId(planPlace(plan, home).place));
    const recorded = recordedGrant(record).filter((plan) => inCheckedPlace(plan) && (!linkableOnly || checkedPlans.has(plan)));
    if (!sameSet(recorded, actual) || missingIn.length > 0) {
      const gone = missingIn.length > 0 ? `its key in ${missingIn.join(', ')} no longer exists; ` : '';
      drift.push({
        ...base,
        kind: 'GRANT_MISMATCH',
        credentialId,
        recorded: sorted(recorded),
        actual: sorted(actual),
        ...(missingIn.length > 0 ? { missingIn } : {}),
        detail: `${gone}usage plans in AWS [${sorted(actual).join(', ')}] differ from the registry's [${sorted(recorded).join(', ')}]`,
      });
    }
    for (const credential of found) {
      if (credential.enabled) continue;
      const where = placed.length > 1 ? ` (in ${credential.place})` : '';
      drift.push({
        ...base,
        kind: 'DISABLED_KEY',
        credentialId: credential.credentialId,
        place: credential.place,
        detail: `the key was disabled outside the webhook${where}`,
      });
    }
  }

  for (const credential of inventory.credentials) {
    const id = keyOf(credential);
    if (accounted.has(id)) continue;
    const record = recordsById.get(id) ?? recordsByName.get(`${credential.credentialType}:${withoutMark(credential.name)}`);
    const detail = !record
      ? 'made by the webhook, but no registry record holds it'
      : record.state === 'REVOKED'
        ? 'the registry says this app’s credential was revoked'
        : 'the registry holds another credential for this app';
    // Without a record, the app its name stands whole for (a shortened name stands for none): a create for it may yet claim it.
    const appKey = record?.appKey ?? appKeyOfResourceName(credential.name);
    const app = { ...(appKey ? { appKey } : {}), ...(record ? { recordUpdatedAt: record.updatedAt } : {}) };
    const place = credential.credentialType === 'API_KEY' ? credential.place : undefined;
    const where = place && inventory.places.length > 1 ? ` (in ${place})` : '';
    drift.push({
      kind: 'ORPHAN',
      credentialType: credential.credentialType,
      credentialId: credential.credentialId,
      ...(place ? { place } : {}),
      name: credential.name,
      detail: `${detail}${where}`,
      ...app,
    });
  }

  // An acknowledgement in force sets its one finding apart; every other finding, and any new one, counts.
  const acknowledgements = inventory.acknowledgements.filter((acknowledgement) => inForce(acknowledgement, inventory.readAt));
  const counted: Drift[] = [];
  const acknowledged: AcknowledgedDrift[] = [];
  for (const finding of drift) {
    const acknowledgement = acknowledgements.find((candidate) => acknowledges(candidate, finding));
    if (acknowledgement) acknowledged.push({ ...finding, acknowledgement });
    else counted.push(finding);
  }

  const counts = Object.fromEntries(driftKinds.map((kind) => [kind, counted.filter((found) => found.kind === kind).length])) as Record<
    DriftKind,
    number
  >;
  const byApp = <T extends { appKey?: string; kind: string }>(findings: T[]) =>
    findings.sort((a, b) => (a.appKey ?? '~').localeCompare(b.appKey ?? '~') || a.kind.localeCompare(b.kind));
  return {
    checkedAt: new Date(inventory.readAt).toISOString(),
    checkedTypes: [...inventory.checkedTypes],
    places: [...inventory.places],
    complete: Object.keys(unchecked).length === 0,
    unchecked,
    totals: {
      records: inventory.records.length,
      apiKeys: inventory.credentials.filter((credential) => credential.credentialType === 'API_KEY').length,
      appClients: inventory.credentials.filter((credential) => credential.credentialType === 'CLIENT_CREDENTIALS').length,
      foreign: inventory.foreign.length,
    },
    counts,
    drift: byApp(counted),
    inProgress: byApp(inProgress),
    acknowledged: byApp(acknowledged),
    foreign: inventory.foreign,
  };
};

const changeInProgress = (record: CredentialRecord, base: Pick<Drift, 'credentialType' | 'appKey' | 'recordUpdatedAt'>): ChangeInProgress => ({
  ...base,
  kind: inProgressKind,
  credentialId: record.credentialId as string,
  leaseExpiresAt: new Date(record.leaseExpiresAt as number).toISOString(),
  detail: 'a change (update, revoke or repeated create) is under way',
});

const actualGrant = (credential: InventoryCredential) => (credential.credentialType === 'API_KEY' ? credential.usagePlanIds : credential.scopes);

/** Drift the repair leaves alone: a key disabled by hand may have been disabled on purpose. */
export const reportOnly: ReadonlySet<DriftKind> = new Set(['DISABLED_KEY']);
