import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { quotaMismatchOf } from '#audit/applied-quota';
import { Audit } from '#audit/audit';
import { driftKinds } from '#audit/drift';
import { issuesCredentialType } from '#commons/config';
import { logger, metrics } from '#commons/powertools';
import { settings } from '#commons/settings';
import { publishCapacityLevel } from '#provisioning/capacity-metrics';

const { credentialPolicy, home } = settings;

/** The same audit as `npm run audit`, on the deployment's own settings. */
const audit = new Audit({
  registryTableName: settings.registryTableName,
  ...(issuesCredentialType(credentialPolicy, 'API_KEY')
    ? {
        apiKeys: {
          deploymentId: settings.deploymentId,
          ...(credentialPolicy.usagePlanIds ? { linkableUsagePlanIds: credentialPolicy.usagePlanIds } : {}),
          // Every place the functions reach, reached as they reach it.
          home,
          ...(credentialPolicy.targets ? { targets: credentialPolicy.targets } : {}),
        },
      }
    : {}),
  ...(settings.cognito
    ? { appClients: { ...settings.cognito, deploymentId: settings.deploymentId }, appClientsLimit: settings.cognito.appClientsQuota }
    : {}),
  leaseMs: settings.claim.leaseMs,
});

/** The audit saw something it cannot vouch for: the function fails, so that its errors alarm. */
export class IncompleteAuditError extends Error {
  override readonly name = 'IncompleteAuditError';
}

/**
 * The scheduled audit: reports only (repairs are an operator's decision), as one `Drift`
 * metric per kind, which the stack alarms on, and one log line with the findings. Changes in
 * progress and acknowledged findings are published apart and never count as drift. Each
 * complete run publishes `AuditCompleted`: its absence (rule disabled, function failing) alarms.
 * A run that could not read a kind of credential the registry holds fails instead of reporting.
 */
export const handler = async () => {
  const { report, calls, gauges } = await audit.run();
  // Each gauge's level, reconciled to the registry: the capacity alarms see a gauge even when no portal call moves it.
  for (const gauge of gauges) if (!gauge.error) publishCapacityLevel(gauge, { used: gauge.used, limit: gauge.limit });
  for (const kind of driftKinds) {
    const metric = metrics.singleMetric();
    metric.addDimension('kind', kind);
    metric.addMetric('Drift', MetricUnit.Count, report.counts[kind]);
  }
  const count = (name: string, value: number) => metrics.singleMetric().addMetric(name, MetricUnit.Count, value);
  count('ForeignCredentials', report.totals.foreign);
  count('ChangesInProgress', report.inProgress.length);
  count('AcknowledgedDrift', report.acknowledged.length);
  // Findings name apps and credential ids, never a secret; the full list is one `npm run audit` away.
  const summary = {
    counts: report.counts,
    totals: report.totals,
    calls,
    gauges,
    drift: report.drift.slice(0, 200),
    inProgress: report.inProgress.slice(0, 50),
    acknowledged: report.acknowledged.slice(0, 50),
  };
  if (!report.complete) {
    logger.error('Audit incomplete: the registry holds credentials of a type this deployment does not read', {
      ...summary,
      unchecked: report.unchecked,
    });
    throw new IncompleteAuditError(
      `the registry holds credentials this audit cannot see (${Object.entries(report.unchecked)
        .map(([type, records]) => `${records} ${type}`)
        .join(', ')}): the deployment no longer issues them; audit them with npm run audit`,
    );
  }
  logger[report.drift.length > 0 ? 'warn' : 'info']('Audit finished', summary);
  // Not drift, and no metric: a setting the platform team changes. The functions keep counting against the configured limit.
  for (const mismatch of gauges.map(quotaMismatchOf)) {
    if (mismatch) {
      logger.warn(
        `The quota of app clients in force differs from the limit the deployment counts against: set ${mismatch.setting} to ${mismatch.applied}`,
        { quotaMismatch: mismatch },
      );
    }
  }
  count('AuditCompleted', 1);
  return {
    counts: report.counts,
    totals: report.totals,
    inProgress: report.inProgress.length,
    acknowledged: report.acknowledged.length,
    gauges: gauges.map(({ quota, place, used, limit, reconciled, applied }) => ({
      quota,
      place,
      used,
      limit,
      reconciled,
      ...(applied ? { applied } : {}),
    })),
  };
};
