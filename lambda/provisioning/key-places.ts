import { type Place, type PlaceId, type ProvisioningTarget, placeId, planPlace } from '#commons/places';
import type { Placement } from './provisioner.ts';

/** A place beyond the webhook's own, and the target that covers it (its role, for another account). */
export interface PlaceElsewhere {
  place: Place;
  target: ProvisioningTarget;
}

/**
 * Every place beyond `home` that a provisioning target covers, as the functions wire them
 * (lambda/provisioning/credentials.ts, the audit): a target without an account is the webhook's own.
 */
export const placesElsewhere = (home: Place, targets: readonly ProvisioningTarget[] = []): PlaceElsewhere[] => {
  const seen = new Set([placeId(home)]);
  return targets.flatMap((target) =>
    target.regions.flatMap((region) => {
      const place: Place = { account: target.account ?? home.account, region };
      if (seen.has(placeId(place))) return [];
      seen.add(placeId(place));
      return [{ place, target }];
    }),
  );
};

/** Where a record says its API keys live: every place's key id (`placedIds`; absent, the one id at home). */
export const placedKeysOf = (record: Placement & { credentialId?: string }, home: Place): Record<PlaceId, string> =>
  record.placedIds ? { ...record.placedIds } : record.credentialId ? { [placeId(home)]: record.credentialId } : {};

/** The place of the key the portal knows: its entry in `placedIds`, else home. */
export const primaryPlaceOf = (record: Placement & { credentialId?: string }, home: Place): PlaceId =>
  Object.entries(record.placedIds ?? {}).find(([, keyId]) => keyId === record.credentialId)?.[0] ?? placeId(home);

/** The order a create makes a key's places in: the webhook's own first, then by id. The first holds the key the portal is answered. */
export const placeOrder =
  (home: Place) =>
  (a: PlaceId, b: PlaceId): number => {
    const own = placeId(home);
    return a === own ? -1 : b === own ? 1 : a.localeCompare(b);
  };

/** The places a grant's plans are in, in the order a create makes them. A grant without plans makes its key at home. */
export const placesOfPlans = (usagePlanIds: readonly string[], home: Place): PlaceId[] => {
  const places = new Set(usagePlanIds.map((id) => placeId(planPlace(id, home).place)));
  return places.size === 0 ? [placeId(home)] : [...places].sort(placeOrder(home));
};
