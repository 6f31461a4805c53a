import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, notFound, unprocessable, type WebhookError } from '#contract/errors';
import type {
  CreateCredentialsRequest,
  CreateCredentialsResponse,
  CredentialType,
  RevokeCredentialsRequest,
  UpdateCredentialsRequest,
} from '#contract/schemas';
import { logger } from '#commons/powertools';
import { type HistoryAction, historyEntry, type HistoryRecorder } from '#history/history-entry';
import { appIdentityOf, appKeyOf } from './app-identity.ts';
import { toWebhookError } from './aws-failures.ts';
import type { CredentialPolicy } from './credential-policy.ts';
import { type AppIdentity, type Grant, type IssuedCredential, LeftoversError, type Provisioner } from './provisioner.ts';
import type { CredentialRecord, Registry } from './registry.ts';

export interface CredentialsServiceOptions {
  registry: Registry;
  policy: CredentialPolicy;
  provisioners: readonly Provisioner[];
  /** How long a claim or hold protects a change in progress; longer than the function's timeout. */
  leaseMs: number;
  /** How long a call waits for another call changing the same app before answering 409. */
  waitMs: number;
  pollMs?: number;
  now?: () => number;
  /** Where every change is recorded; none: not recorded. */
  history?: HistoryRecorder;
}

const credentialIdOf = (request: { credentialType: CredentialType; apiKeyId?: string; clientId?: string }) =>
  request.credentialType === 'API_KEY' ? request.apiKeyId : request.clientId;

/** Runs one portal operation, reporting AWS failures in the contract's terms. */
const reported = async <T>(action: string, operation: () => Promise<T>): Promise<T> => {
  try {
    return await operation();
  } catch (error) {
    throw toWebhookError(error, action);
  }
};

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item) => b.includes(item));
const sameGrant = (a: Grant, b: Grant) => sameSet(a.apiIds, b.apiIds) && sameSet(a.usagePlanIds, b.usagePlanIds) && sameSet(a.scopes, b.scopes);

/** Turns spent on records that change under us (revoked, deleted) rather than on waiting for another call. */
const maxTurnsWithoutWaiting = 3;

const createInProgress = () =>
  conflict('CREATE_IN_PROGRESS', 'Credentials for this app are still being created by an earlier request; retry in a few seconds.');
const changeInProgress = () =>
  conflict('CHANGE_IN_PROGRESS', 'Another request is still changing the credentials of this app; retry in a few seconds.');
const claimLost = () => conflict('CLAIM_LOST', 'This request took too long and another one took over; retry it.');
const stateChanging = () => conflict('APP_STATE_CHANGING', 'The credentials of this app changed repeatedly while this request ran; retry it.');

/**
 * The credential lifecycle the portal drives: the registry decides whether to act
 * (ownership, retries, one change at a time per app), a provisioner does the AWS work.
 * Every change to an app happens while this call holds it in the registry: a create
 * claims it, an update, a revoke or a repeated create that must change something holds
 * its credential. Others wait for the holder (up to `waitMs`), then answer 409.
 */
export class CredentialsService {
  private readonly provisioners: Map<CredentialType, Provisioner>;
  private readonly now: () => number;

  constructor(private readonly options: CredentialsServiceOptions) {
    this.provisioners = new Map(options.provisioners.map((provisioner) => [provisioner.credentialType, provisioner]));
    this.now = options.now ?? Date.now;
  }

  create(request: CreateCredentialsRequest): Promise<CreateCredentialsResponse> {
    return this.recordingFailure('CREATE', request, () => reported('creating the credential', () => this.createOrReturnExisting(request)));
  }

  update(request: UpdateCredentialsRequest): Promise<void> {
    return this.recordingFailure('UPDATE', request, () => reported('updating the credential', () => this.updateGrant(request)));
  }

  revoke(request: RevokeCredentialsRequest): Promise<void> {
    return this.recordingFailure('REVOKE', request, () => reported('revoking the credential', () => this.revokeCredential(request)));
  }

  private async createOrReturnExisting(request: CreateCredentialsRequest): Promise<CreateCredentialsResponse> {
    const app = appIdentityOf(request);
    const { credentialType, grant } = await this.options.policy.resolve(request.apis);
    const provisioner = this.provisionerFor(credentialType);
    const giveUpAt = this.now() + this.options.waitMs;

    // Each turn either claims the app and issues, answers with what an earlier call issued
    // (brought in line with this request), or waits for the call that holds the app.
    for (let surprises = 0; ; ) {
      const claimToken = randomUUID();
      const outcome = await this.options.registry.claim(this.pendingRecord(app, credentialType, grant, claimToken), this.now());
      if (outcome.claimed) return this.issue(app, provisioner, grant, claimToken, outcome.previous);

      const current = outcome.current;
      if (current?.state === 'ACTIVE') this.expectSameApp(current, app, credentialType);
      if (current && this.leaseRunning(current)) {
        await this.awaitTurn(giveUpAt, current.state === 'PENDING' ? createInProgress : changeInProgress);
        continue;
      }
      if (current?.state === 'ACTIVE') {
        const existing = await this.returnExisting(current, grant);
        if (existing) return existing;
      }
      if (++surprises >= maxTurnsWithoutWaiting) throw stateChanging();
    }
  }

  /**
   * Answers a repeated create with the app's credential. When the request's grant differs from
   * the recorded one, or a change crashed midway (an expired hold), it first holds the app and
   * brings the grant in line, as an update would. Undefined when the credential turned out to be
   * gone (its record is then revoked, so that the next turn issues a new one) or the app changed.
   */
  private async returnExisting(record: CredentialRecord, grant: Grant): Promise<CreateCredentialsResponse | undefined> {
    const { registry } = this.options;
    const provisioner = this.provisionerFor(record.credentialType);
    const credentialId = record.credentialId as string;
    const settled = record.claimToken === undefined;
    if (settled && sameGrant(record, grant)) {
      const issued = await provisioner.reveal(credentialId);
      if (issued) return this.respond(record.credentialType, issued);
    }

    const claimToken = randomUUID();
    const hold = await registry.hold(record.appKey, credentialId, this.lease(claimToken), this.now());
    if (!hold.held) return undefined;
    this.noteTakeover(hold.tookOver, record.appKey);
    const issued = await this.underHold(record.appKey, claimToken, async () => {
      if (!(await provisioner.reveal(credentialId))) return undefined;
      await provisioner.regrant(credentialId, grant);
      return provisioner.reveal(credentialId);
    });
    if (!issued) {
      logger.warn('Registered credential no longer exists in AWS; issuing a new one', { appKey: record.appKey, credentialId });
      await this.recordRevoked(record.appKey, claimToken);
      await this.options.history?.record(historyEntry({ ...record, action: 'MARK_GONE', before: record }));
      return undefined;
    }
    await this.recordGrant(record.appKey, claimToken, grant);
    await this.options.history?.record(historyEntry({ ...record, action: 'UPDATE', before: record, after: grant }));
    logger.info('Credential brought in line with a repeated create', { appKey: record.appKey, credentialId, ...grant });
    return this.respond(record.credentialType, issued);
  }

  private async updateGrant(request: UpdateCredentialsRequest): Promise<void> {
    const giveUpAt = this.now() + this.options.waitMs;
    let resolved: { credentialType: CredentialType; grant: Grant } | undefined;
    for (;;) {
      const record = await this.locate(request);
      if (!record || record.state === 'REVOKED') {
        throw notFound('No credential this webhook created matches the request; create it first.');
      }
      this.expectType(record, request.credentialType);
      if (record.state === 'PENDING' && !this.leaseRunning(record)) {
        throw notFound('The create that was making this credential did not finish; create it again.');
      }
      if (this.leaseRunning(record)) {
        await this.awaitTurn(giveUpAt, record.state === 'PENDING' ? createInProgress : changeInProgress);
        continue;
      }
      resolved ??= await this.options.policy.resolve(request.apis);
      const { credentialType, grant } = resolved;
      if (credentialType !== record.credentialType) {
        throw unprocessable(
          'CREDENTIAL_TYPE_CHANGE',
          `The requested APIs need ${credentialType}, but this app holds ${record.credentialType}; revoke it and create new credentials.`,
        );
      }
      const credentialId = record.credentialId as string;
      const claimToken = await this.holdForChange(record, giveUpAt);
      if (claimToken === undefined) continue;
      await this.underHold(record.appKey, claimToken, () => this.provisionerFor(record.credentialType).regrant(credentialId, grant));
      await this.recordGrant(record.appKey, claimToken, grant);
      await this.options.history?.record(historyEntry({ ...record, action: 'UPDATE', before: record, after: grant }));
      logger.info('Credential updated', { appKey: record.appKey, credentialId, ...grant });
      return;
    }
  }

  /**
   * Holds an issued credential for one change; undefined when another call took the app between
   * our read and our hold (read it again), 409 once the wait budget is spent.
   */
  private async holdForChange(record: CredentialRecord, giveUpAt: number): Promise<string | undefined> {
    const claimToken = randomUUID();
    const hold = await this.options.registry.hold(record.appKey, record.credentialId as string, this.lease(claimToken), this.now());
    if (!hold.held) {
      if (this.now() >= giveUpAt) throw changeInProgress();
      return undefined;
    }
    this.noteTakeover(hold.tookOver, record.appKey);
    return claimToken;
  }

  private async revokeCredential(request: RevokeCredentialsRequest): Promise<void> {
    const giveUpAt = this.now() + this.options.waitMs;
    for (;;) {
      const record = await this.locate(request);
      if (!record || record.state === 'REVOKED') {
        logger.info('Nothing to revoke', { credentialId: credentialIdOf(request), appKey: appKeyOf(request) });
        return;
      }
      this.expectType(record, request.credentialType);
      const provisioner = this.provisionerFor(record.credentialType);
      if (this.leaseRunning(record)) {
        await this.awaitTurn(giveUpAt, record.state === 'PENDING' ? createInProgress : changeInProgress);
        continue;
      }
      if (record.state === 'PENDING') return this.revokeCrashedCreate(record, provisioner);

      const credentialId = record.credentialId as string;
      const claimToken = await this.holdForChange(record, giveUpAt);
      if (claimToken === undefined) continue;
      await this.underHold(record.appKey, claimToken, () => provisioner.revoke(credentialId));
      await this.recordRevoked(record.appKey, claimToken);
      await this.options.history?.record(historyEntry({ ...record, action: 'REVOKE', before: record }));
      logger.info('Credential revoked', { appKey: record.appKey, credentialId });
      return;
    }
  }

  /**
   * The create that held this claim died. Take its claim first, so that no create can issue
   * while its leftovers are deleted; if the cleanup fails, the claim stays for the next call.
   */
  private async revokeCrashedCreate(record: CredentialRecord, provisioner: Provisioner): Promise<void> {
    const claimToken = randomUUID();
    const taken = await this.options.registry.claim({ ...record, ...this.lease(claimToken) }, this.now());
    if (!taken.claimed) throw conflict('APP_STATE_CHANGING', 'The credentials of this app changed while this request ran; retry it.');
    await provisioner.removeLeftovers(record);
    await this.options.registry.markRevoked(record.appKey, claimToken, this.isoNow());
    await this.options.history?.record(historyEntry({ ...record, action: 'REVOKE', before: record }));
  }

  private async issue(
    app: AppIdentity,
    provisioner: Provisioner,
    grant: Grant,
    claimToken: string,
    previous: CredentialRecord | undefined,
  ): Promise<CreateCredentialsResponse> {
    const { registry } = this.options;
    let issued: IssuedCredential;
    try {
      // The claim replaced an expired one, or may have (see ClaimOutcome): look for what its create left.
      if (previous?.state === 'PENDING') {
        const removed = await this.provisionerFor(previous.credentialType).removeLeftovers(app);
        logger.warn('Took over a claim whose create may not have finished', { appKey: app.appKey, leftoversRemoved: removed });
      }
      issued = await provisioner.create(app, grant);
    } catch (error) {
      // What AWS may still hold keeps the claim: once its lease expires, the next call cleans it
      // up. Otherwise the app goes back to how it was (an earlier expired claim included).
      if (!(error instanceof LeftoversError)) await this.releaseClaimQuietly(app.appKey, claimToken, previous);
      throw error;
    }

    try {
      if (!(await registry.activate(app.appKey, claimToken, issued.credentialId, this.isoNow()))) {
        throw claimLost();
      }
    } catch (error) {
      // Not recorded means not ours to keep: delete it, and release the claim only once it is gone.
      try {
        await provisioner.revoke(issued.credentialId);
      } catch (rollbackFailure) {
        // With the claim still ours, the next call cleans up; after CLAIM_LOST nobody will.
        logger.error('A credential that could not be recorded could not be deleted either', {
          appKey: app.appKey,
          credentialId: issued.credentialId,
          errorName: (rollbackFailure as Error).name,
        });
        throw new LeftoversError(error, rollbackFailure);
      }
      await this.releaseClaimQuietly(app.appKey, claimToken, previous);
      throw error;
    }
    await this.options.history?.record(
      historyEntry({
        appKey: app.appKey,
        action: 'CREATE',
        credentialType: provisioner.credentialType,
        credentialId: issued.credentialId,
        after: grant,
      }),
    );
    logger.info('Credential created', { appKey: app.appKey, credentialType: provisioner.credentialType, credentialId: issued.credentialId });
    return this.respond(provisioner.credentialType, issued);
  }

  /** By credential id when the request carries one, else by the app. */
  private async locate(request: RevokeCredentialsRequest | UpdateCredentialsRequest): Promise<CredentialRecord | undefined> {
    const credentialId = credentialIdOf(request);
    const appKey = appKeyOf(request);
    if (credentialId === undefined) return appKey === undefined ? undefined : this.options.registry.get(appKey);
    const record = await this.options.registry.findByCredentialId(credentialId, appKey);
    // An app first created without a slug is keyed by a hash and holds none to compare with.
    if (record?.appSlug !== undefined && request.appSlug !== undefined && record.appSlug !== request.appSlug) {
      throw conflict('CREDENTIAL_APP_MISMATCH', 'The credential id belongs to a different app than the appSlug names.');
    }
    return record;
  }

  /** A repeated create is the same request: the same developer, and APIs of the same credential type. */
  private expectSameApp(record: CredentialRecord, app: AppIdentity, credentialType: CredentialType) {
    // Email domains are case-insensitive, and the portal may change the case of what it sends.
    if (record.developer.toLowerCase() !== app.developer.toLowerCase()) {
      throw conflict(
        'APP_DEVELOPER_MISMATCH',
        'This app already holds credentials issued to another developer; a create for it must name the same developer.',
      );
    }
    if (record.credentialType !== credentialType) {
      throw unprocessable(
        'CREDENTIAL_TYPE_CHANGE',
        `The requested APIs need ${credentialType}, but this app holds ${record.credentialType}; revoke it and create new credentials.`,
      );
    }
  }

  private expectType(record: CredentialRecord, requested: CredentialType) {
    if (record.credentialType !== requested) {
      throw conflict('CREDENTIAL_TYPE_MISMATCH', `This credential is ${record.credentialType}, not ${requested}.`);
    }
  }

  private provisionerFor(credentialType: CredentialType): Provisioner {
    const provisioner = this.provisioners.get(credentialType);
    if (!provisioner) throw unprocessable('CREDENTIAL_TYPE_DISABLED', `This deployment does not issue ${credentialType} credentials.`);
    return provisioner;
  }

  private respond(credentialType: CredentialType, issued: IssuedCredential): CreateCredentialsResponse {
    const custom = issued.customCredentials ? { customCredentials: issued.customCredentials } : {};
    return credentialType === 'API_KEY'
      ? { credentialType, apiKeyId: issued.credentialId, apiKey: issued.secret, ...custom }
      : { credentialType, clientId: issued.credentialId, clientSecret: issued.secret, ...custom };
  }

  private pendingRecord(app: AppIdentity, credentialType: CredentialType, grant: Grant, claimToken: string) {
    const now = this.now();
    const iso = new Date(now).toISOString();
    return {
      ...app,
      ...grant,
      credentialType,
      state: 'PENDING' as const,
      claimToken,
      leaseExpiresAt: now + this.options.leaseMs,
      createdAt: iso,
      updatedAt: iso,
    };
  }

  private lease(claimToken: string) {
    return { claimToken, leaseExpiresAt: this.now() + this.options.leaseMs };
  }

  /** Whether another call holds the app (a create's claim or a change's hold) and may still. */
  private leaseRunning(record: CredentialRecord) {
    return (record.leaseExpiresAt ?? 0) > this.now();
  }

  /** Waits one poll for the call holding the app; once the wait budget is spent, answers 409. */
  private async awaitTurn(giveUpAt: number, busy: () => WebhookError) {
    if (this.now() >= giveUpAt) throw busy();
    await sleep(this.options.pollMs ?? 200);
  }

  /** A hold taken from a change that crashed: AWS may differ from the record, and this call reconciles it. */
  private noteTakeover(tookOver: boolean | undefined, appKey: string) {
    if (tookOver) logger.warn('Took over the expired hold of a change that did not finish', { appKey });
  }

  /**
   * Runs a change to AWS while holding the app. On failure the hold is given up, unless AWS may
   * keep part of the change (a failed rollback): then the hold stays, and the first call after
   * its lease takes it over and reconciles.
   */
  private async underHold<T>(appKey: string, claimToken: string, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      if (error instanceof LeftoversError) logger.warn('A change could not be undone; the app stays held until its lease ends', { appKey });
      else await this.releaseHoldQuietly(appKey, claimToken);
      throw error;
    }
  }

  /**
   * Records the grant AWS now has, giving up the hold. If the registry fails, the hold stays
   * (AWS and the record differ): the call that takes it over after its lease reconciles them.
   */
  private async recordGrant(appKey: string, claimToken: string, grant: Grant) {
    let recorded: boolean;
    try {
      recorded = await this.options.registry.recordGrant(appKey, claimToken, grant, this.isoNow());
    } catch (error) {
      throw new LeftoversError(error);
    }
    if (!recorded) throw claimLost();
  }

  /**
   * Records that the credential is gone from AWS, giving up the hold. If the registry fails, the
   * hold is given up anyway: whoever comes next finds the credential gone and records it.
   */
  private async recordRevoked(appKey: string, claimToken: string) {
    let recorded: boolean;
    try {
      recorded = await this.options.registry.markRevoked(appKey, claimToken, this.isoNow());
    } catch (error) {
      await this.releaseHoldQuietly(appKey, claimToken);
      throw error;
    }
    if (!recorded) throw claimLost();
  }

  private async releaseHoldQuietly(appKey: string, claimToken: string) {
    try {
      await this.options.registry.releaseHold(appKey, claimToken);
    } catch (error) {
      logger.warn('Could not give up the hold; it expires with its lease', { appKey, errorName: (error as Error).name });
    }
  }

  private async releaseClaimQuietly(appKey: string, claimToken: string, previous: CredentialRecord | undefined) {
    try {
      await this.options.registry.releaseClaim(appKey, claimToken, previous);
    } catch (error) {
      logger.warn('Could not release the claim; it expires with its lease', { appKey, errorName: (error as Error).name });
    }
  }

  /** A change that failed on AWS's side may have happened in part: the history says it was tried. */
  private async recordingFailure<T>(
    action: HistoryAction,
    request: Parameters<typeof appKeyOf>[0] & { credentialType?: CredentialType },
    operation: () => Promise<T>,
  ): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const appKey = appKeyOf(request);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (appKey !== undefined && status >= 500) {
        const outcome = (error as { code?: string }).code ?? 'INTERNAL_ERROR';
        await this.options.history?.record(
          historyEntry({ appKey, action, ...(request.credentialType ? { credentialType: request.credentialType } : {}), outcome }),
        );
      }
      throw error;
    }
  }

  private isoNow() {
    return new Date(this.now()).toISOString();
  }
}
