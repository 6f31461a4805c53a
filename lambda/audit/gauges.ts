import type { Place } from '#commons/places';
import type { AppliedQuota } from './applied-quota.ts';
import { apiKeysGauge, appClientsGauge, type CapacityGauges, type Gauge, type GaugeSnapshot, memberOf } from '#provisioning/capacity';
import type { CredentialRecord, Registry } from '#provisioning/registry';
import { isReservedItem } from '#provisioning/registry';
import { placedKeysOf, placesOfPlans } from '#provisioning/key-places';

/** A gauge as the audit left it. */
export interface GaugeLevel {
  quota: Gauge['quota'];
  /** `account/region` for API keys, the user pool id for app clients. */
  place: string;
  limit: number;
  /** What the gauge counts after the audit: the live apps, or (not reconciled) what it counted before. */
  used: number;
  /** What the gauge counted before the audit. */
  counted: number;
  /** False when a reserve or release ran meanwhile (nothing written: the next audit reconciles), or the write failed. */
  reconciled: boolean;
  /** Apps the gauge missed, and apps it counted that hold nothing there. */
  added: number;
  removed: number;
  /** Why the gauge could not be read or written (the error's name). */
  error?: string;
  /**
   * App clients only: what Service Quotas says the pool's quota is (or why it said nothing), beside `limit`,
   * the configured value the gauge counts against. A difference is reported, never applied by the audit.
   */
  applied?: AppliedQuota;
}

/** The gauges a deployment has: API keys in every place it reaches (when it issues them), app clients of its pool. */
export const deploymentGauges = (apiKeyPlaces: readonly Place[], userPool?: { userPoolId: string; limit?: number }): Gauge[] => [
  ...apiKeyPlaces.map(apiKeysGauge),
  ...(userPool ? [appClientsGauge(userPool.userPoolId, userPool.limit)] : []),
];

/**
 * Whether `record` holds (or is making) something `gauge` counts: an API key in its place (ACTIVE: a key the
 * registry places there; PENDING: a claim whose plans are there), or an app client of the pool.
 */
const counts = (gauge: Gauge, record: CredentialRecord, home: Place): boolean => {
  if (record.state === 'REVOKED') return false;
  if (gauge.quota === 'appClients') return record.credentialType === 'CLIENT_CREDENTIALS';
  if (record.credentialType !== 'API_KEY') return false;
  const places = new Set(Object.keys(placedKeysOf(record, home)));
  if (record.state === 'PENDING') for (const place of placesOfPlans(record.usagePlanIds ?? [], home)) places.add(place);
  return places.has(gauge.place);
};

/**
 * Corrects each gauge to the registry: a snapshot of every gauge first, then one consistent read of the
 * registry, then each gauge set to its live apps unless it changed since its snapshot (`CapacityGauges.reconcile`).
 * An app whose change is under way (a claim or hold whose lease runs) stays as the gauge has it: its
 * reserve may precede its record. A gauge that cannot be read or written is reported, not thrown.
 */
export const reconcileGauges = async (
  capacity: CapacityGauges,
  gauges: readonly Gauge[],
  registry: Registry,
  { home, now }: { home: Place; now: () => number },
): Promise<GaugeLevel[]> => {
  const snapshots = await Promise.all(
    gauges.map((gauge) =>
      capacity.snapshot(gauge).then(
        (snapshot): GaugeSnapshot | Error => snapshot,
        (error: Error) => error,
      ),
    ),
  );
  const records: CredentialRecord[] = [];
  for await (const page of registry.scan()) records.push(...page.filter((item) => !isReservedItem(item)));
  const readAt = now();
  const changing = (record: CredentialRecord) => record.leaseExpiresAt !== undefined && record.leaseExpiresAt >= readAt;
  return Promise.all(
    gauges.map(async (gauge, index): Promise<GaugeLevel> => {
      const snapshot = snapshots[index] as GaugeSnapshot | Error;
      const base = { quota: gauge.quota, place: gauge.place, limit: gauge.limit };
      if (snapshot instanceof Error) return { ...base, used: 0, counted: 0, reconciled: false, added: 0, removed: 0, error: snapshot.name };
      const live = records.filter((record) => counts(gauge, record, home) || (changing(record) && snapshot.members.has(memberOf(record.appKey))));
      const counted = snapshot.count;
      try {
        const outcome = await capacity.reconcile(
          snapshot,
          live.map((record) => record.appKey),
        );
        if (!outcome.reconciled) return { ...base, used: counted, counted, reconciled: false, added: 0, removed: 0 };
        return { ...base, used: outcome.used, counted, reconciled: true, added: outcome.added, removed: outcome.removed };
      } catch (error) {
        return { ...base, used: counted, counted, reconciled: false, added: 0, removed: 0, error: (error as Error).name };
      }
    }),
  );
};
