import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Audit } from '#audit/audit';
import { driftKinds } from '#audit/drift';
import { issuesCredentialType } from '#commons/config';
import { logger, metrics } from '#commons/powertools';
import { settings } from '#commons/settings';

const { credentialPolicy } = settings;

/** The same audit as `npm run audit`, on the deployment's own settings. */
const audit = new Audit({
  registryTableName: settings.registryTableName,
  ...(issuesCredentialType(credentialPolicy, 'API_KEY')
    ? {
        apiKeys: {
          deploymentId: settings.deploymentId,
          ...(credentialPolicy.usagePlanIds ? { linkableUsagePlanIds: credentialPolicy.usagePlanIds } : {}),
        },
      }
    : {}),
  ...(settings.cognito ? { appClients: settings.cognito } : {}),
  leaseMs: settings.claim.leaseMs,
});

/**
 * The scheduled audit: reports only (repairs are an operator's decision), as one `Drift`
 * metric per kind, which the stack alarms on, and one log line with the findings.
 */
export const handler = async () => {
  const { report, calls } = await audit.run();
  for (const kind of driftKinds) {
    const metric = metrics.singleMetric();
    metric.addDimension('kind', kind);
    metric.addMetric('Drift', MetricUnit.Count, report.counts[kind]);
  }
  const foreign = metrics.singleMetric();
  foreign.addMetric('ForeignCredentials', MetricUnit.Count, report.totals.foreign);
  // Findings name apps and credential ids, never a secret; the full list is one `npm run audit` away.
  logger[report.drift.length > 0 ? 'warn' : 'info']('Audit finished', {
    counts: report.counts,
    totals: report.totals,
    calls,
    drift: report.drift.slice(0, 200),
  });
  return { counts: report.counts, totals: report.totals };
};
