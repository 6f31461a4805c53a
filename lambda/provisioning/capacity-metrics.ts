import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '#commons/powertools';
import type { CapacityLevel } from './capacity.ts';
import { type CapacityQuota, type capacityDimensions, capacityMetricNames } from './capacity-names.ts';

/**
 * Publishes a gauge's level (after a reserve or release, or from the audit): `CapacityUsed` and
 * `CapacityLimit` (Count), by `quota` and `place`. One single metric each: Powertools forgets a
 * single metric's dimensions once it is published.
 */
export const publishCapacityLevel = (gauge: { quota: CapacityQuota; place: string }, level: CapacityLevel): void => {
  const dimensions: Record<(typeof capacityDimensions)[number], string> = { quota: gauge.quota, place: gauge.place };
  for (const [name, value] of [
    [capacityMetricNames.used, level.used],
    [capacityMetricNames.limit, level.limit],
  ] as const) {
    const metric = metrics.singleMetric();
    metric.addDimensions(dimensions);
    metric.addMetric(name, MetricUnit.Count, value);
  }
};
