import type { CredentialType } from '#contract/schemas';
import { appKeyOfResourceName, resourceName } from '#provisioning/provisioner';
import type { CredentialRecord } from '#provisioning/registry';
import type { ForeignCredential, Inventory, InventoryCredential } from './inventory.ts';

/**
 * ORPHAN: in AWS, made by the webhook, but the registry does not hold it (no record, revoked, or another credential).
 * GONE: the registry holds it as active, AWS no longer has it.
 * GRANT_MISMATCH: its usage plans (API key) or scopes (app client) differ from what the registry recorded.
 * STUCK_CLAIM: a create's claim (PENDING) outlived its lease: the create died.
 * DISABLED_KEY: an active API key disabled outside the webhook (which only makes enabled keys).
 */
export const driftKinds = ['ORPHAN', 'GONE', 'GRANT_MISMATCH', 'STUCK_CLAIM', 'DISABLED_KEY'] as const;
export type DriftKind = (typeof driftKinds)[number];

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

export interface AuditReport {
  checkedAt: string;
  checkedTypes: CredentialType[];
  totals: { records: number; apiKeys: number; appClients: number; foreign: number };
  counts: Record<DriftKind, number>;
  drift: Drift[];
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
    inventory.credentials.filter((credential) => credential.credentialType === record.credentialType && credential.name === resourceName(record));

  for (const record of inventory.records) {
    if (!checked.has(record.credentialType)) continue;
    const base = { credentialType: record.credentialType, appKey: record.appKey, recordUpdatedAt: record.updatedAt };
    if (record.state === 'PENDING') {
      // Running or not, the claim accounts for what carries its app's name.
      const made = namedFor(record).filter(
        (credential) => recordsById.get(key(credential.credentialType, credential.credentialId))?.state !== 'ACTIVE',
      );
      for (const credential of made) accounted.add(key(credential.credentialType, credential.credentialId));
      if ((record.leaseExpiresAt ?? 0) < inventory.readAt) {
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
    const record = recordsById.get(id) ?? recordsByName.get(`${credential.credentialType}:${credential.name}`);
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

  const counts = Object.fromEntries(driftKinds.map((kind) => [kind, drift.filter((found) => found.kind === kind).length])) as Record<
    DriftKind,
    number
  >;
  return {
    checkedAt: new Date(inventory.readAt).toISOString(),
    checkedTypes: [...inventory.checkedTypes],
    totals: {
      records: inventory.records.length,
      apiKeys: inventory.credentials.filter((credential) => credential.credentialType === 'API_KEY').length,
      appClients: inventory.credentials.filter((credential) => credential.credentialType === 'CLIENT_CREDENTIALS').length,
      foreign: inventory.foreign.length,
    },
    counts,
    drift: drift.sort((a, b) => (a.appKey ?? '~').localeCompare(b.appKey ?? '~') || a.kind.localeCompare(b.kind)),
    foreign: inventory.foreign,
  };
};

const actualGrant = (credential: InventoryCredential) => (credential.credentialType === 'API_KEY' ? credential.usagePlanIds : credential.scopes);

/** Drift the repair leaves alone: a key disabled by hand may have been disabled on purpose. */
export const reportOnly: ReadonlySet<DriftKind> = new Set(['DISABLED_KEY']);
