import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { currentCaller } from '#history/caller';
import { type DriftKind, driftKinds } from './drift-kinds.ts';
import { reservedKeyPrefix } from '#provisioning/registry';

/**
 * An operator's word that one finding is a known exception (a key disabled on purpose), until
 * `expiresAt`: the audit reports it as acknowledged, apart from the drift, and does not count it.
 * It names one finding, never a kind: `subject` is the finding's credential id, or its app key
 * when the finding names no credential (a STUCK_CLAIM that left nothing).
 */
export interface Acknowledgement {
  kind: DriftKind;
  subject: string;
  reason: string;
  expiresAt: string;
  acknowledgedAt: string;
  /** Who acknowledged it (the operator's principal, as the history names them). */
  acknowledgedBy: string;
}

/**
 * Acknowledgements live in the registry table, beside the apps, so the operator command and the
 * scheduled audit (which reads that table and nothing else of DynamoDB) see the same ones at once,
 * with no redeploy. Their keys start with `#`, which no app key holds (a portal slug is letters,
 * digits, `.`, `-` and `_`; a derived key starts `sha256-`), so no route can ever read or claim one;
 * and they carry no `credentialId`, so the registry's index on it never returns one.
 */
const acknowledgementKeyPrefix = `${reservedKeyPrefix}acknowledgement#`;

export const acknowledgementOf = (item: Record<string, unknown>): Acknowledgement | undefined => {
  if (typeof item.appKey !== 'string' || !item.appKey.startsWith(acknowledgementKeyPrefix)) return undefined;
  const { kind, subject, reason, expiresAt, acknowledgedAt, acknowledgedBy } = item;
  if (!driftKinds.includes(kind as DriftKind) || typeof subject !== 'string' || typeof expiresAt !== 'string') return undefined;
  return {
    kind: kind as DriftKind,
    subject,
    reason: String(reason ?? ''),
    expiresAt,
    acknowledgedAt: String(acknowledgedAt ?? ''),
    acknowledgedBy: String(acknowledgedBy ?? ''),
  };
};

/** The finding an acknowledgement names: the same kind, and the same credential (or app, when it names no credential). */
export const acknowledges = (
  acknowledgement: Pick<Acknowledgement, 'kind' | 'subject'>,
  finding: { kind: string; credentialId?: string; appKey?: string },
): boolean => acknowledgement.kind === finding.kind && acknowledgement.subject === (finding.credentialId ?? finding.appKey);

/** Whether it still holds at `at` (epoch ms): an expired acknowledgement counts the finding again. */
export const inForce = (acknowledgement: Acknowledgement, at: number): boolean => Date.parse(acknowledgement.expiresAt) > at;

/** The longest an acknowledgement may run: someone looks at the exception again at least this often. */
export const maxAcknowledgementDays = 90;
const dayMs = 86_400_000;

/** What the operator asks for: `KIND:SUBJECT:YYYY-MM-DD:reason` (until the end of that day, UTC). */
export type AcknowledgementRequest = Omit<Acknowledgement, 'acknowledgedAt' | 'acknowledgedBy'>;

/** Parses `--acknowledge KIND:SUBJECT:YYYY-MM-DD:reason`; throws a sentence for the operator when it is not one. */
export const parseAcknowledgement = (text: string, now: number): AcknowledgementRequest => {
  const match = /^([A-Z_]+):([^:\s]+):(\d{4}-\d{2}-\d{2}):(.*)$/s.exec(text);
  const usage = '--acknowledge takes KIND:CREDENTIAL-ID-OR-APP:YYYY-MM-DD:reason';
  if (!match) throw new Error(`${usage}, not "${text}"`);
  const [, kind = '', subject = '', day = '', reason = ''] = match;
  if (!driftKinds.includes(kind as DriftKind)) throw new Error(`--acknowledge: "${kind}" is not a kind of drift (${driftKinds.join(', ')})`);
  const expiresAt = Date.parse(`${day}T00:00:00.000Z`) + dayMs;
  if (Number.isNaN(expiresAt) || new Date(expiresAt - dayMs).toISOString().slice(0, 10) !== day) {
    throw new Error(`--acknowledge: "${day}" is not a date`);
  }
  if (expiresAt <= now) throw new Error(`--acknowledge: ${day} has passed`);
  if (expiresAt - now > (maxAcknowledgementDays + 1) * dayMs) {
    throw new Error(`--acknowledge: at most ${maxAcknowledgementDays} days ahead, so that someone looks at the exception again`);
  }
  if (reason.trim().length < 3) throw new Error('--acknowledge: give the reason after the date');
  return { kind: kind as DriftKind, subject, reason: reason.trim(), expiresAt: new Date(expiresAt).toISOString() };
};

/** Writes (or renews) the acknowledgement of one finding in the registry table. */
export const recordAcknowledgement = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  request: AcknowledgementRequest,
  now: number,
): Promise<Acknowledgement> => {
  const acknowledgement: Acknowledgement = {
    ...request,
    acknowledgedAt: new Date(now).toISOString(),
    acknowledgedBy: currentCaller().principal,
  };
  await documents.send(
    new PutCommand({
      TableName: tableName,
      Item: { appKey: `${acknowledgementKeyPrefix}${request.kind}#${request.subject}`, ...acknowledgement },
    }),
  );
  return acknowledgement;
};
