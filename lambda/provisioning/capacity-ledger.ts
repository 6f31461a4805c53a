import { parsePlaceId } from '#commons/places';
import type { CredentialType } from '#contract/schemas';
import { logger } from '#commons/powertools';
import { apiKeysGauge, appClientsGauge, type CapacityGauges, type Gauge } from './capacity.ts';
import { publishCapacityLevel } from './capacity-metrics.ts';
import type { QuotaTaken } from './provisioner.ts';

/**
 * What a holder of an app books against AWS's quotas: a place (an account and Region) for each API key
 * it makes, the user pool for an app client. A place is reserved before anything is made there, so a
 * full quota answers 503 QUOTA_EXCEEDED with nothing made, and released once nothing of the app is left
 * there. Both are idempotent (the gauge keeps its members), so a retried or repeated call counts once.
 */
export class CapacityLedger {
  /**
   * @param userPool the pool app clients are made in and its quota of app clients; none when the
   *   deployment issues no client credentials.
   */
  constructor(
    private readonly gauges: CapacityGauges,
    private readonly userPool?: { id: string; appClientLimit: number },
  ) {}

  /** Reserves every place, or none: a refusal gives back what this call reserved, then is thrown. */
  async reserve(credentialType: CredentialType, places: readonly string[], appKey: string): Promise<void> {
    const gauges = places.flatMap((place) => this.gaugeOf(credentialType, place));
    const results = await Promise.allSettled(gauges.map((gauge) => this.gauges.reserve(gauge, appKey)));
    for (const [index, result] of results.entries()) if (result.status === 'fulfilled') publishCapacityLevel(gauges[index] as Gauge, result.value);
    const refusal = results.find((result) => result.status === 'rejected');
    if (!refusal) return;
    const reserved = places.filter((_, index) => results[index]?.status === 'fulfilled');
    await this.release(credentialType, reserved, appKey);
    throw refusal.reason;
  }

  /**
   * Gives the places back once nothing of the app is left there. A release that fails leaves the gauge
   * counting one app too many until the audit reconciles it: never a reason to fail the change itself.
   */
  async release(credentialType: CredentialType, places: readonly string[], appKey: string): Promise<void> {
    const gauges = places.flatMap((place) => this.gaugeOf(credentialType, place));
    await Promise.all(
      gauges.map(async (gauge) => {
        try {
          publishCapacityLevel(gauge, await this.gauges.release(gauge, appKey));
        } catch (error) {
          logger.warn('Could not release a capacity gauge; the audit reconciles it', {
            appKey,
            gauge: gauge.place,
            errorName: (error as Error).name,
          });
        }
      }),
    );
  }

  /** Publishes what one credential was just granted of its own quotas (plans per key, scopes per client). */
  published(taken: readonly QuotaTaken[]): void {
    for (const { quota, place, used, limit } of taken) publishCapacityLevel({ quota, place }, { used, limit });
  }

  private gaugeOf(credentialType: CredentialType, place: string): Gauge[] {
    if (credentialType === 'API_KEY') return [apiKeysGauge(parsePlaceId(place))];
    return this.userPool ? [appClientsGauge(this.userPool.id, this.userPool.appClientLimit)] : [];
  }
}
