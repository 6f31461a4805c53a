import type { CredentialType } from '#contract/schemas';
import { appKeyOfResourceName, resourceName, withoutMark } from '#provisioning/provisioner';
import type { CredentialRecord } from '#provisioning/registry';
import { type Acknowledgement, acknowledges, inForce } from './acknowledgements.ts';
import { type DriftKind, driftKinds, inProgressKind } from './drift-kinds.ts';
import type { ForeignCredential, Inventory, InventoryCredential } from './inventory.ts';

export { type DriftKind, driftKinds, inProgressKind } from './drift-kinds.ts';

export interface Drift {
  kind: DriftKind;
  credentialType: CredentialType;
  /** The app, when a registry record names it. */
  appKey?: string;
  credentialId?: string;
  /** One sentence for the operator. */
  detail: string;
  /** GRANT_MISMATCH: what the registry recorded, and what AWS holds. */
  recorded?: string[];
  actual?: string[];
  /** ORPHAN: the credential's name in AWS. */
  name?: string;
  /** STUCK_CLAIM: what the dead create left in AWS. */
  leftovers?: string[];
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
const recordedGrant = (record: CredentialRecord) => (record.credentialType === 'API_KEY' ? record.usagePlanIds : record.scopes) ?? [];

/**
 * Compares the registry with AWS. Pure: everything it needs is in the inventory, so the
 * same inventory always gives the same report.
 *
 * @param linkableOnly the inventory read only the deployment's linkable plans: recorded
 *   plans outside them cannot be checked and are left out of the comparison.
 */
export const findDrift = (inventory: Inventory, linkableOnly: boolean): AuditReport => {
  const drift: Drift[] = [];
  const key = (type: CredentialType, id: string) => `${type}:${id}`;
  const inAws = new Map(inventory.credentials.map((credential) => [key(credential.credentialType, credential.credentialId), credential]));
  const checked = new Set(inventory.checkedTypes);
  const checkedPlans = new Set(inventory.usagePlanIds);
  /** Credentials some record accounts for: the active one, or what a PENDING claim is making. */
  const accounted = new Set<string>();
  const recordsById = new Map<string, CredentialRecord>();
  const recordsByName = new Map<string, CredentialRecord>();
  for (const record of inventory.records) {
    if (record.credentialId) recordsById.set(key(record.credentialType, record.credentialId), record);
    recordsByName.set(`${record.credentialType}:${resourceName(record)}`, record);
  }
  const namedFor = (record: CredentialRecord) =>
    inventory.credentials.filter(
      (credential) => credential.credentialType === record.credentialType && withoutMark(credential.name) === resourceName(record),
    );

  const inProgress: ChangeInProgress[] = [];
  const unchecked: Partial<Record<CredentialType, number>> = {};
  const leaseRuns = (record: CredentialRecord) => record.leaseExpiresAt !== undefined && record.leaseExpiresAt >= inventory.readAt;

  for (const record of inventory.records) {
    if (!checked.has(record.credentialType)) {
      // A revoked record claims nothing exists; an active or pending one does, and this audit cannot see it.
      if (record.state !== 'REVOKED') unchecked[record.credentialType] = (unchecked[record.credentialType] ?? 0) + 1;
      continue;
    }
    const base = { credentialType: record.credentialType, appKey: record.appKey, recordUpdatedAt: record.updatedAt };
    if (record.state === 'PENDING') {
      // Running or not, the claim accounts for what carries its app's name.
      const made = namedFor(record).filter(
        (credential) => recordsById.get(key(credential.credentialType, credential.credentialId))?.state !== 'ACTIVE',
      );
      for (const credential of made) accounted.add(key(credential.credentialType, credential.credentialId));
      if (leaseRuns(record)) {
        inProgress.push({
          ...base,
          kind: inProgressKind,
          leaseExpiresAt: new Date(record.leaseExpiresAt as number).toISOString(),
          detail: `a create is under way (claimed at ${record.updatedAt}); ${made.length} credential(s) made so far`,
        });
      } else {
        const leftovers = made.map((credential) => credential.credentialId).sort();
        drift.push({
          ...base,
          kind: 'STUCK_CLAIM',
          leftovers,
          detail: `a create claimed this app at ${record.updatedAt} and never finished; ${leftovers.length} credential(s) left in AWS`,
        });
      }
      continue;
    }
    if (record.state !== 'ACTIVE' || !record.credentialId) continue;
    const credential = inAws.get(key(record.credentialType, record.credentialId));
    if (record.claimToken !== undefined && leaseRuns(record)) {
      // An update, revoke or repeated create holds it: its plans, scopes or very existence may be half-way.
      if (credential) accounted.add(key(credential.credentialType, credential.credentialId));
      inProgress.push({
        ...base,
        kind: inProgressKind,
        credentialId: record.credentialId,
        leaseExpiresAt: new Date(record.leaseExpiresAt as number).toISOString(),
        detail: 'a change (update, revoke or repeated create) is under way',
      });
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
    accounted.add(key(credential.credentialType, credential.credentialId));
    const actual = actualGrant(credential);
    const recorded =
      credential.credentialType === 'API_KEY' && linkableOnly
        ? recordedGrant(record).filter((plan) => checkedPlans.has(plan))
        : recordedGrant(record);
    if (!sameSet(recorded, actual)) {
      const what = credential.credentialType === 'API_KEY' ? 'usage plans' : 'scopes';
      drift.push({
        ...base,
        kind: 'GRANT_MISMATCH',
        credentialId: credential.credentialId,
        recorded: sorted(recorded),
        actual: sorted(actual),
        detail: `${what} in AWS [${sorted(actual).join(', ')}] differ from the registry's [${sorted(recorded).join(', ')}]`,
      });
    }
    if (credential.credentialType === 'API_KEY' && !credential.enabled) {
      drift.push({ ...base, kind: 'DISABLED_KEY', credentialId: credential.credentialId, detail: 'the key was disabled outside the webhook' });
    }
  }

  for (const credential of inventory.credentials) {
    const id = key(credential.credentialType, credential.credentialId);
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
    drift.push({
      kind: 'ORPHAN',
      credentialType: credential.credentialType,
      credentialId: credential.credentialId,
      name: credential.name,
      detail,
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

const actualGrant = (credential: InventoryCredential) => (credential.credentialType === 'API_KEY' ? credential.usagePlanIds : credential.scopes);

/** Drift the repair leaves alone: a key disabled by hand may have been disabled on purpose. */
export const reportOnly: ReadonlySet<DriftKind> = new Set(['DISABLED_KEY']);
