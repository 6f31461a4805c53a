import type { CredentialType } from '#contract/schemas';
import { appClientsQuotaName, quotaMismatchOf } from './applied-quota.ts';
import type { AuditRun } from './audit.ts';
import type { AuditReport } from './drift.ts';
import type { GaugeLevel } from './gauges.ts';

/** How the operator command makes the audit see each type, said when it did not. */
const howToCheck: Record<CredentialType, string> = {
  CLIENT_CREDENTIALS: 'give --user-pool-id (or set USER_POOL_ID)',
  API_KEY: 'audit API keys too',
};

/** One sentence per credential type the registry holds and the audit did not read: nothing is known of those. */
export const uncheckedLines = (report: AuditReport): string[] =>
  Object.entries(report.unchecked).map(
    ([type, records]) =>
      `NOT CHECKED: the registry holds ${records} ${type} credential(s) that this audit did not read from AWS: ` +
      `nothing is known of them, drift or not; ${howToCheck[type as CredentialType]}`,
  );

/** The line that sums the report up; it never says "agree" of what it did not see. */
export const verdictLine = (report: AuditReport): string => {
  const apart = [
    report.inProgress.length > 0 ? `${report.inProgress.length} change(s) in progress` : '',
    report.acknowledged.length > 0 ? `${report.acknowledged.length} acknowledged exception(s)` : '',
  ].filter(Boolean);
  const listed = apart.length > 0 ? ` (${apart.join(', ')}, listed below)` : '';
  if (!report.complete) return `Incomplete: no drift among the credentials checked${listed}, but not every credential was checked.`;
  return `No drift: the registry and AWS agree${listed}.`;
};

/** What the report sets apart from the drift: unchecked types, changes in progress, acknowledged findings, and a new acknowledgement. */
export const findingsApartLines = (run: AuditRun): string[] => {
  const { report } = run;
  const lines: string[] = [];
  const unchecked = uncheckedLines(report);
  if (unchecked.length > 0) lines.push('', ...unchecked);
  if (report.inProgress.length > 0) {
    lines.push('', 'In progress (a change the webhook is making now: not drift, never repaired; the next audit looks again):');
    lines.push(
      ...report.inProgress.map(
        (change) =>
          `  ${change.appKey ?? '-'} ${change.credentialType} ${change.credentialId ?? '-'}: ${change.detail}; its lease runs until ${change.leaseExpiresAt}`,
      ),
    );
  }
  if (report.acknowledged.length > 0) {
    lines.push('', 'Acknowledged (known exceptions: not counted, not repaired, until each expires):');
    lines.push(
      ...report.acknowledged.map(
        ({ appKey, kind, credentialType, credentialId, acknowledgement: { reason, expiresAt, acknowledgedBy } }) =>
          `  ${appKey ?? '-'} ${kind} ${credentialType} ${credentialId ?? '-'}: "${reason}" until ${expiresAt}${acknowledgedBy ? ` (by ${acknowledgedBy})` : ''}`,
      ),
    );
  }
  const asked = run.acknowledgement;
  if (asked?.recorded) {
    const { kind, subject, expiresAt } = asked.acknowledgement;
    lines.push('', `Acknowledgement recorded: ${kind} ${subject} until ${expiresAt}`);
  } else if (asked) lines.push('', `Acknowledgement refused: ${asked.detail}`);
  return lines;
};

const amount = (value: number) => value.toLocaleString('en-US');
const gaugeNames: Record<GaugeLevel['quota'], string> = { apiKeys: 'API keys in', appClients: 'App clients of pool' };

/**
 * The app clients' gauge's one line on the quota Service Quotas reports: as configured, a mismatch naming the
 * setting to change (not drift: the audit never changes the limit), or why it was not read.
 */
export const appliedQuotaLine = (gauge: GaugeLevel): string | undefined => {
  const { applied } = gauge;
  if (gauge.quota !== 'appClients' || !applied) return undefined;
  if (!applied.read)
    return `    Quota in force not read from Service Quotas (${applied.reason}): the gauge keeps the configured ${amount(gauge.limit)}`;
  const inForce =
    applied.source === 'applied'
      ? `Service Quotas applies ${amount(applied.value)} ("${appClientsQuotaName}")`
      : `Service Quotas lists no applied value ("${appClientsQuotaName}"): AWS's default ${amount(applied.value)} is in force`;
  const mismatch = quotaMismatchOf(gauge);
  if (!mismatch) return `    ${inForce}, as configured`;
  return (
    `    QUOTA MISMATCH: ${inForce}, but the deployment counts against ${amount(mismatch.configured)}: ` +
    `set ${mismatch.setting} to ${amount(mismatch.applied)} (not drift; the audit changes no limit)`
  );
};

/** One line per capacity gauge: its level after the audit, and what the audit corrected. */
export const gaugeLines = (gauges: readonly GaugeLevel[]): string[] => {
  if (gauges.length === 0) return [];
  const line = (gauge: GaugeLevel) => {
    const level = `${amount(gauge.used)} of ${amount(gauge.limit)} (${Math.floor((gauge.used / gauge.limit) * 100)} %)`;
    const what = `  ${gaugeNames[gauge.quota]} ${gauge.place}: `;
    if (gauge.error) return `${what}could not be read or corrected (${gauge.error})`;
    if (!gauge.reconciled) return `${what}${level}; not corrected: it changed during the audit (the next audit corrects it)`;
    const corrected =
      gauge.added + gauge.removed > 0 ? `; corrected from ${amount(gauge.counted)} (${gauge.added} added, ${gauge.removed} removed)` : '';
    return `${what}${level}${corrected}`;
  };
  return [
    '',
    'Capacity (gauges reconciled to the registry):',
    ...gauges.flatMap((gauge) => [line(gauge), appliedQuotaLine(gauge)].filter((text) => text !== undefined)),
  ];
};
