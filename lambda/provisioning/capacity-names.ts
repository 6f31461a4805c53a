/**
 * What the capacity gauges are published as, shared by the functions that publish them and the
 * stack's alarms and widgets that read them (no SDK or Powertools here: the stack imports it).
 */

/** The quotas the webhook counts in gauges (`capacity.ts`): API keys per account and Region, app clients per user pool. */
export type CountedQuota = 'apiKeys' | 'appClients';
/**
 * The quotas each credential takes on its own: usage plans per API key (10, in each place), scopes per app
 * client (50). A request past one is refused with 422; the most a credential is granted is published as it
 * is granted, so that a portal whose APIs grow towards one is seen before its requests are refused.
 */
export type PerCredentialQuota = 'usagePlansPerKey' | 'scopesPerClient';
export type CapacityQuota = CountedQuota | PerCredentialQuota;
export const capacityQuotas: readonly CapacityQuota[] = ['apiKeys', 'appClients', 'usagePlansPerKey', 'scopesPerClient'];

export const capacityMetricNames = { used: 'CapacityUsed', limit: 'CapacityLimit' } as const;

/** The dimensions of the capacity metrics, besides the `service` Powertools adds to every metric. */
export const capacityDimensions = ['quota', 'place'] as const;

/** A gauge this full (percent of its limit) alarms: time to revoke, spread APIs out or raise the quota. */
export const capacityAlarmPercent = 80;
