/**
 * ORPHAN: in AWS, made by the webhook, but the registry does not hold it (no record, revoked, or another credential).
 * GONE: the registry holds it as active, AWS no longer has it.
 * GRANT_MISMATCH: its usage plans (API key) or scopes (app client) differ from what the registry recorded.
 * STUCK_CLAIM: a create's claim (PENDING) outlived its lease: the create died.
 * DISABLED_KEY: an active API key disabled outside the webhook (which only makes enabled keys).
 *
 * Every one of them is counted in the `Drift` metric (unless acknowledged) and alarmed on.
 */
export const driftKinds = ['ORPHAN', 'GONE', 'GRANT_MISMATCH', 'STUCK_CLAIM', 'DISABLED_KEY'] as const;
export type DriftKind = (typeof driftKinds)[number];

/**
 * IN_PROGRESS: the webhook is changing the app right now (a create's claim, or a change's hold on
 * an active credential, whose lease still runs): what AWS shows may be half-way. Not drift: reported
 * apart, never counted nor repaired; should the change die, its lease runs out and the next audit judges it.
 */
export const inProgressKind = 'IN_PROGRESS';
