/**
 * What the capacity gauges are published as, shared by the functions that publish them and the
 * stack's alarms and widgets that read them (no SDK or Powertools here: the stack imports it).
 */

/** The quotas the webhook counts: API keys per account and Region, app clients per user pool. */
export type CapacityQuota = 'apiKeys' | 'appClients';
export const capacityQuotas: readonly CapacityQuota[] = ['apiKeys', 'appClients'];

export const capacityMetricNames = { used: 'CapacityUsed', limit: 'CapacityLimit' } as const;

/** The dimensions of the capacity metrics, besides the `service` Powertools adds to every metric. */
export const capacityDimensions = ['quota', 'place'] as const;

/** A gauge this full (percent of its limit) alarms: time to revoke, spread APIs out or raise the quota. */
export const capacityAlarmPercent = 80;
