import { randomUUID } from 'node:crypto';
import { currentTurn, inTurn, narrowTurn } from '#clients/turns';
import { functionDefaults, leaseMarginSeconds } from '#commons/defaults';
import { type Place, type PlaceId, placeId } from '#commons/places';
import type { CredentialType } from '#contract/schemas';
import { credentialRef, type Grant, LeftoversError, type Placement, type Provisioner, resourceName, withoutMark } from '#provisioning/provisioner';
import { type CredentialRecord, grantOf, type Registry } from '#provisioning/registry';
import { type Drift, recordedGrant, reportOnly } from './drift.ts';
import { placedKeysOf } from '#provisioning/key-places';

/**
 * DELETE_ORPHAN: delete a credential no record holds. MARK_REVOKED: record that an active
 * credential is gone. REGRANT: bring plans or scopes back to the registry's. FINISH_CLAIM:
 * a dead create left exactly one credential: record it as the app's. RELEASE_CLAIM: delete
 * what a dead create left and mark the app revoked, so the portal's next create starts clean.
 */
export type RepairKind = 'DELETE_ORPHAN' | 'MARK_REVOKED' | 'REGRANT' | 'FINISH_CLAIM' | 'RELEASE_CLAIM';

/**
 * PLANNED: dry run. APPLIED: done. SKIPPED: the state changed since the audit read it
 * (a portal call, another repair), so nothing was done: audit again. FAILED: AWS refused or failed.
 */
export type RepairOutcome = 'PLANNED' | 'APPLIED' | 'SKIPPED' | 'FAILED';

export interface RepairResult {
  action: RepairKind;
  credentialType: CredentialType;
  appKey?: string;
  credentialId?: string;
  outcome: RepairOutcome;
  /** What was (or would be) done, or why not. */
  detail: string;
  /** The grant before and after, for the history. */
  before?: Grant;
  after?: Grant;
}

/** What one repair needs: the registry, and the same provisioners the webhook uses. */
export interface RepairDependencies {
  registry: Registry;
  provisioners: ReadonlyMap<CredentialType, Provisioner>;
  /** Whether a credential still exists in AWS (a direct read, never a listing); an API key in `place` (default: home). */
  exists(credentialType: CredentialType, credentialId: string, place?: PlaceId): Promise<boolean>;
  /**
   * What AWS says of an API key in one place (its tags), as `Provisioner.whereabouts` does for the whole
   * deployment; absent: the provisioner's, which looks in every place.
   */
  whereaboutsIn?(credentialId: string, place: PlaceId): Promise<{ ours: boolean; appKey?: string } | undefined>;
  /** Whether the API keys named (one per place) hold one value; the values are compared, never returned. */
  shareOneValue?(placedIds: Readonly<Record<PlaceId, string>>): Promise<boolean>;
  /** The webhook's own place: records without `placedIds` hold their key there. */
  home?: Place;
  /** How long a taken-over claim protects the repair; the webhook's own lease. */
  leaseMs: number;
  /** How long before its lease ends a repair stops acting, as the webhook's holders do (default `leaseMarginSeconds`). */
  leaseMarginMs?: number;
  now?: () => number;
}

export const repairKindOf = (drift: Drift): RepairKind | undefined => {
  if (reportOnly.has(drift.kind)) return undefined;
  switch (drift.kind) {
    case 'ORPHAN':
      return 'DELETE_ORPHAN';
    case 'GONE':
      return 'MARK_REVOKED';
    case 'GRANT_MISMATCH':
      return 'REGRANT';
    case 'STUCK_CLAIM':
      return finishable(drift) ? 'FINISH_CLAIM' : 'RELEASE_CLAIM';
    default:
      return undefined;
  }
};

/**
 * Whether a dead create left exactly what it was making: one credential, or, for an API key, one key in
 * each place its plans are in and none elsewhere (whether they share one value is checked when applied).
 */
const finishable = (drift: Drift): boolean => {
  const { placedLeftovers, claimPlaces } = drift;
  if (!placedLeftovers || !claimPlaces) return drift.leftovers?.length === 1;
  const places = placedLeftovers.map(({ place }) => place);
  return places.length === claimPlaces.length && new Set(places).size === places.length && claimPlaces.every((place) => places.includes(place));
};

/** The leftovers of an API key claim as `placedIds`, by place; undefined for app clients. */
const leftoverPlacedIds = (drift: Drift): Record<PlaceId, string> | undefined =>
  drift.placedLeftovers ? Object.fromEntries(drift.placedLeftovers.map(({ place, credentialId }) => [place, credentialId])) : undefined;

const homeOf = (deps: RepairDependencies): Place => deps.home ?? { account: functionDefaults.accountId, region: functionDefaults.region };

/** One API key in its place, as a `CredentialRef` (a revoke of it touches that place only). */
const keyInPlace = (credentialId: string, place: PlaceId | undefined) => ({
  credentialId,
  ...(place ? { placedIds: { [place]: credentialId } } : {}),
});

class Skip extends Error {}

/**
 * Repairs one finding, under the portal's own rules: a repair that changes an app holds it (a hold
 * or a taken-over claim), acts only on the record as its hold found it, keeps the hold until AWS and
 * the registry are both written, and acts only in its turn (`#clients/turns`): a laptop that slept
 * past the lease does nothing more. Every step is safe to repeat: an interrupted run is resumed by
 * auditing and repairing again.
 */
export const repair = async (drift: Drift, deps: RepairDependencies, apply: boolean): Promise<RepairResult | undefined> => {
  const action = repairKindOf(drift);
  if (!action) return undefined;
  const result: RepairResult = {
    action,
    credentialType: drift.credentialType,
    ...(drift.appKey ? { appKey: drift.appKey } : {}),
    ...(drift.credentialId ? { credentialId: drift.credentialId } : {}),
    outcome: apply ? 'APPLIED' : 'PLANNED',
    detail: plannedDetail(action, drift),
  };
  if (!apply) return result;
  try {
    // Every repair acts within one lease from its start, the margin kept, as a portal call does.
    const now = deps.now ?? Date.now;
    const deadline = now() + deps.leaseMs - (deps.leaseMarginMs ?? leaseMarginSeconds * 1000);
    const done = await inTurn(narrowTurn(currentTurn(), deadline, now), () => repairs[action](drift, deps));
    return { ...result, ...done };
  } catch (error) {
    if (error instanceof Skip) return { ...result, outcome: 'SKIPPED', detail: error.message };
    const name = (error as Error)?.name ?? 'Error';
    const code = (error as { code?: string }).code;
    return { ...result, outcome: 'FAILED', detail: `${plannedDetail(action, drift)} failed: ${code ?? name}` };
  }
};

const plannedDetail = (action: RepairKind, drift: Drift): string => {
  switch (action) {
    case 'DELETE_ORPHAN':
      return `delete ${drift.credentialId}${drift.place ? ` in ${drift.place}` : ''}`;
    case 'MARK_REVOKED':
      return 'mark the registry record revoked (deleting its keys in any other place)';
    case 'REGRANT': {
      const remade = drift.missingIn?.length ? `make its key in ${drift.missingIn.join(', ')} again with the same value, and ` : '';
      return `${remade}set ${drift.credentialType === 'API_KEY' ? 'usage plans' : 'scopes'} back to [${drift.recorded?.join(', ')}]`;
    }
    case 'FINISH_CLAIM':
      return (drift.placedLeftovers?.length ?? 0) > 1
        ? `record ${leftoverList(drift)} as the app's key (if they share one value; else release the claim) and grant it what the claim asked for`
        : `record ${drift.leftovers?.[0]} as the app's credential and grant it what the claim asked for`;
    case 'RELEASE_CLAIM':
      return `delete ${drift.leftovers?.length ? leftoverList(drift) : 'nothing'} and mark the claim revoked`;
  }
};

const leftoverList = (drift: Drift) =>
  drift.placedLeftovers && drift.placedLeftovers.length > 0
    ? drift.placedLeftovers.map(({ place, credentialId }) => `${credentialId} (${place})`).join(', ')
    : (drift.leftovers ?? []).join(', ');

type Done = Partial<RepairResult>;

const provisionerOf = (deps: RepairDependencies, type: CredentialType) => {
  const provisioner = deps.provisioners.get(type);
  if (!provisioner) throw new Skip(`this deployment does not issue ${type}`);
  return provisioner;
};

const repairs: Record<RepairKind, (drift: Drift, deps: RepairDependencies) => Promise<Done>> = {
  async DELETE_ORPHAN(drift, deps) {
    const credentialId = drift.credentialId as string;
    const provisioner = provisionerOf(deps, drift.credentialType);
    // The app it was made for, as AWS names it (an API key's tag), never as a name derived from it.
    const { place } = drift;
    const whereabouts = place && deps.whereaboutsIn ? await deps.whereaboutsIn(credentialId, place) : await provisioner.whereabouts(credentialId);
    if (!whereabouts) return { detail: `${credentialId} was already gone` };
    if (!whereabouts.ours) throw new Skip('it is not this deployment’s: left alone');
    const appKey = whereabouts.appKey ?? drift.appKey;
    const [byId, byApp] = await Promise.all([deps.registry.findByCredentialId(credentialId), appKey ? deps.registry.get(appKey) : undefined]);
    // An app client whose shortened name hides its app: any create in progress whose name it carries.
    const claims = appKey ? [] : (await deps.registry.pendingClaims()).filter((claim) => resourceName(claim) === withoutMark(drift.name ?? ''));
    // A key is held by a record that names it in its place; an app client by its id.
    const holds = (record: CredentialRecord) =>
      place && record.credentialType === 'API_KEY'
        ? placedKeysOf(record, homeOf(deps))[place] === credentialId
        : record.credentialId === credentialId;
    for (const record of [byId, byApp, ...claims]) {
      if (record?.state === 'ACTIVE' && holds(record)) throw new Skip('the registry now holds it: not an orphan any more');
      if (record?.state === 'PENDING' && record.credentialType === drift.credentialType)
        throw new Skip('a create for this app is in progress: audit again later');
    }
    // In its own place only: the same id elsewhere would be another key.
    await provisioner.revoke(keyInPlace(credentialId, place));
    return { ...(appKey ? { appKey } : {}), detail: `deleted ${credentialId}${place ? ` in ${place}` : ''}` };
  },

  async MARK_REVOKED(drift, deps) {
    const credentialId = drift.credentialId as string;
    if (await deps.exists(drift.credentialType, credentialId, drift.place)) throw new Skip('it exists in AWS after all: not gone');
    const { record, claimToken } = await hold(drift, deps);
    // The developer's keys in other places carry the value of the key that is gone: they go with the record.
    const others = Object.entries(placedKeysOf(record, homeOf(deps))).filter(([, keyId]) => keyId !== credentialId);
    if (others.length > 0) await provisionerOf(deps, record.credentialType).revoke({ credentialId, placedIds: Object.fromEntries(others) });
    const deletedCredentialIds = others.map(([, keyId]) => keyId);
    await deps.registry.markRevoked(record.appKey, claimToken, iso(deps), {
      action: 'MARK_REVOKED',
      ...(deletedCredentialIds.length > 0 ? { deletedCredentialIds } : {}),
    });
    const deleted = others.length > 0 ? ` (its keys in ${others.map(([place]) => place).join(', ')} deleted)` : '';
    return { detail: `marked revoked${deleted}: the portal’s next create for this app issues a new credential`, before: grantOf(record) };
  },

  async REGRANT(drift, deps) {
    const provisioner = provisionerOf(deps, drift.credentialType);
    const { record, claimToken } = await hold(drift, deps);
    // The record as the hold found it: a portal update that landed after the audit read it wins.
    if (!sameStrings(recordedGrant(record), drift.recorded ?? [])) {
      await deps.registry.releaseHold(record.appKey, claimToken).catch(() => false);
      throw new Skip('the credential was updated since the audit');
    }
    // Held like a portal change: no update or revoke of this app runs until the grant is recorded again.
    let placement: Placement;
    try {
      placement = await provisioner.regrant(credentialRef(record), grantOf(record));
    } catch (error) {
      // A regrant that failed was undone: the hold goes, or the portal would wait out its lease. One that
      // could not be undone keeps it, as a portal change would, until the lease ends.
      if (!(error instanceof LeftoversError)) await deps.registry.releaseHold(record.appKey, claimToken).catch(() => false);
      throw error;
    }
    const actualGrant = { apiIds: record.apiIds ?? [], usagePlanIds: [] as string[], scopes: [] as string[] };
    if (drift.credentialType === 'API_KEY') actualGrant.usagePlanIds = drift.actual ?? [];
    else actualGrant.scopes = drift.actual ?? [];
    // Condition failed within the turn: only this write can have removed the hold (an answer lost and retried).
    // The history's `before` is what AWS held, not the record (which the repair leaves as it was).
    await deps.registry.recordGrant(record.appKey, claimToken, grantOf(record), iso(deps), { action: 'REGRANT', before: actualGrant }, placement);
    return { detail: plannedDetail('REGRANT', drift), before: actualGrant, after: grantOf(record) };
  },

  async FINISH_CLAIM(drift, deps) {
    const { record, claimToken } = await takeOver(drift, deps);
    const placed = leftoverPlacedIds(drift);
    // The key the portal would have been answered: the first place the claim's plans are in.
    const primaryPlace = drift.claimPlaces?.[0];
    const credentialId = (placed && primaryPlace ? placed[primaryPlace] : drift.leftovers?.[0]) as string;
    // A create that took the claim over since the audit may have deleted them; under our claim nobody else can now.
    for (const [place, keyId] of placed ? Object.entries(placed) : [[undefined, credentialId] as const]) {
      if (!(await deps.exists(record.credentialType, keyId, place))) throw new Skip(`${keyId} no longer exists: audit again`);
    }
    const places = placed ? Object.keys(placed) : [];
    if (places.length > 1 && !(await deps.shareOneValue?.(placed as Record<PlaceId, string>))) {
      // Keys of two attempts, or one made by hand: no one value to answer the developer with.
      const released = await releaseWith(drift, deps, record, claimToken);
      return { action: 'RELEASE_CLAIM', detail: `the keys left do not share one value: ${released}` };
    }
    const onlyHome = places.length === 1 && places[0] === placeId(homeOf(deps));
    const ref = { credentialId, ...(placed && !onlyHome ? { placedIds: placed } : {}), app: record };
    // Granted while the claim is still ours, then recorded: the claim is given up only with AWS in line.
    const placement = await provisionerOf(deps, record.credentialType).regrant(ref, grantOf(record));
    await deps.registry.activate(record.appKey, claimToken, credentialId, iso(deps), 'FINISH_CLAIM', placement);
    const where = places.length > 1 ? ` (its keys in ${places.join(', ')})` : '';
    return { credentialId, detail: `recorded ${credentialId} as the app's credential${where}, granted as the claim asked`, after: grantOf(record) };
  },

  async RELEASE_CLAIM(drift, deps) {
    const { record, claimToken } = await takeOver(drift, deps);
    return { detail: await releaseWith(drift, deps, record, claimToken) };
  },
};

/** Deletes what a dead create left, each key in its own place, and marks the claim revoked; says what it deleted. */
const releaseWith = async (drift: Drift, deps: RepairDependencies, record: CredentialRecord, claimToken: string): Promise<string> => {
  const provisioner = provisionerOf(deps, record.credentialType);
  const leftovers = drift.placedLeftovers ?? (drift.leftovers ?? []).map((credentialId) => ({ credentialId, place: undefined }));
  // The claim is ours until its lease ends: if a delete fails, the next audit (or create) takes it over again.
  for (const { credentialId, place } of leftovers) await provisioner.revoke(keyInPlace(credentialId, place));
  await deps.registry.markRevoked(record.appKey, claimToken, iso(deps), {
    action: 'RELEASE_CLAIM',
    deletedCredentialIds: leftovers.map(({ credentialId }) => credentialId),
  });
  return `deleted ${leftovers.length > 0 ? leftoverList(drift) : 'nothing'} and marked the claim revoked`;
};

/**
 * Holds the app's issued credential as a portal change would, so that none runs while the repair does;
 * the record is the one the hold found (the hold fails unless the app is ACTIVE with this credential).
 */
const hold = async (drift: Drift, deps: RepairDependencies) => {
  const now = (deps.now ?? Date.now)();
  const claimToken = randomUUID();
  const held = await deps.registry.hold(
    drift.appKey as string,
    drift.credentialId as string,
    { claimToken, leaseExpiresAt: now + deps.leaseMs },
    now,
  );
  if (!held.held) {
    const changed = held.current?.state !== 'ACTIVE' || held.current.credentialId !== drift.credentialId;
    throw new Skip(changed ? 'the registry record changed since the audit' : 'a change of this app is in progress: audit again later');
  }
  return { record: held.record, claimToken };
};

/** Takes the dead create's claim, so that no portal create for this app runs while the repair does. */
const takeOver = async (drift: Drift, deps: RepairDependencies) => {
  const now = (deps.now ?? Date.now)();
  const record = await deps.registry.get(drift.appKey as string);
  if (record?.state !== 'PENDING' || !record.claimToken || (record.leaseExpiresAt ?? 0) >= now) throw new Skip('the claim is no longer stuck');
  // Another create that took over and died since would have left what the audit did not see.
  if (record.updatedAt !== drift.recordUpdatedAt) throw new Skip('the claim changed since the audit');
  const claimToken = randomUUID();
  if (!(await deps.registry.takeOverClaim({ ...record, claimToken: record.claimToken }, claimToken, now + deps.leaseMs, now))) {
    throw new Skip('the claim was taken over meanwhile');
  }
  return { record: { ...record, claimToken }, claimToken };
};

const sameStrings = (a: readonly string[], b: readonly string[]) => [...new Set(a)].sort().join('\n') === [...new Set(b)].sort().join('\n');

const iso = (deps: RepairDependencies) => new Date((deps.now ?? Date.now)()).toISOString();
