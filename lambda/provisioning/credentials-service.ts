import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, notFound, timedOut, unprocessable, type WebhookError } from '#contract/errors';
import type {
  CreateCredentialsRequest,
  CreateCredentialsResponse,
  CredentialType,
  RevokeCredentialsRequest,
  UpdateCredentialsRequest,
} from '#contract/schemas';
import { currentTurn, inTurn, isTurnOver, narrowTurn, TurnOverError } from '#clients/turns';
import { leaseMarginSeconds } from '#commons/defaults';
import { logger } from '#commons/powertools';
import { type HistoryAction, historyEntry, type HistoryRecorder } from '#history/history-entry';
import { appIdentityOf, appKeyOf } from './app-identity.ts';
import { toWebhookError } from './aws-failures.ts';
import type { CapacityLedger } from './capacity-ledger.ts';
import type { CredentialPolicy } from './credential-policy.ts';
import {
  type AppIdentity,
  credentialRef,
  type Grant,
  type IssuedCredential,
  LeftoversError,
  type Placement,
  type Provisioner,
} from './provisioner.ts';
import { type CredentialRecord, grantOf, type Registry } from './registry.ts';

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
  /**
   * Where a change that failed on AWS's side is recorded (it may have happened in part, and may have
   * changed no record); none: not recorded. Changes that land are recorded from the registry's stream.
   */
  history?: HistoryRecorder;
  /** How long before its lease ends a holder stops acting (default `leaseMarginSeconds`). */
  leaseMarginMs?: number;
  /** Where quotas are booked before anything is made (`CapacityLedger`); none: nothing is counted. */
  capacity?: CapacityLedger;
}

/** What the service knows of the invocation it serves. */
export interface Invocation {
  /** Aborted when the invocation is given up (middy's time-out guard answered already): nothing more may happen. */
  signal?: AbortSignal;
}

const placementOf = ({ placedIds }: Placement): Placement => (placedIds ? { placedIds } : {});

/** A recorded credential as it lives after a change that left it at `placement`. */
const placedAt = (record: CredentialRecord, placement: Placement) => ({ ...credentialRef(record), placedIds: placement.placedIds });

const credentialIdOf = (request: { credentialType: CredentialType; apiKeyId?: string; clientId?: string }) =>
  request.credentialType === 'API_KEY' ? request.apiKeyId : request.clientId;

/** Whether a failure is a turn's end: what the call did is unknown, and it may do nothing more. */
const turnEnded = (error: unknown) =>
  error instanceof TurnOverError ||
  (error instanceof LeftoversError && (error.original instanceof TurnOverError || error.rollbackFailure instanceof TurnOverError));

/** Runs one portal operation, reporting AWS failures in the contract's terms. */
const reported = async <T>(action: string, operation: () => Promise<T>): Promise<T> => {
  try {
    return await operation();
  } catch (error) {
    // Whatever it left is the next holder's to finish, after the lease: the portal retries.
    if (turnEnded(error)) throw timedOut();
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
const stateChanging = () => conflict('APP_STATE_CHANGING', 'The credentials of this app changed repeatedly while this request ran; retry it.');

/**
 * The credential lifecycle the portal drives: the registry decides whether to act
 * (ownership, retries, one change at a time per app), a provisioner does the AWS work.
 * Every change to an app happens while this call holds it in the registry: a create
 * claims it, an update, a revoke or a repeated create that must change something holds
 * its credential. Others wait for the holder (up to `waitMs`), then answer 409.
 *
 * A holder acts only in its turn (`#clients/turns`): every AWS call and registry write it makes
 * starts, and is waited for, only until a margin before its lease ends and while its invocation
 * is answered. After that it does nothing more (the next holder finishes its change from what AWS
 * holds) and answers TIMED_OUT. Within its turn nobody else can change the app's record, so a
 * conditional write of its own that finds its condition failed was applied by an earlier attempt
 * whose answer was lost: the write is recognised as done.
 */
export class CredentialsService {
  private readonly provisioners: Map<CredentialType, Provisioner>;
  private readonly now: () => number;

  constructor(private readonly options: CredentialsServiceOptions) {
    this.provisioners = new Map(options.provisioners.map((provisioner) => [provisioner.credentialType, provisioner]));
    this.now = options.now ?? Date.now;
  }

  create(request: CreateCredentialsRequest, invocation: Invocation = {}): Promise<CreateCredentialsResponse> {
    return this.invoked(invocation, () =>
      this.recordingFailure('CREATE', request, () => reported('creating the credential', () => this.createOrReturnExisting(request))),
    );
  }

  update(request: UpdateCredentialsRequest, invocation: Invocation = {}): Promise<void> {
    return this.invoked(invocation, () =>
      this.recordingFailure('UPDATE', request, () => reported('updating the credential', () => this.updateGrant(request))),
    );
  }

  revoke(request: RevokeCredentialsRequest, invocation: Invocation = {}): Promise<void> {
    return this.invoked(invocation, () =>
      this.recordingFailure('REVOKE', request, () => reported('revoking the credential', () => this.revokeCredential(request))),
    );
  }

  /** Runs an operation in its invocation's turn: nothing of it acts once the invocation is given up. */
  private invoked<T>({ signal }: Invocation, operation: () => Promise<T>): Promise<T> {
    return inTurn({ deadline: Number.POSITIVE_INFINITY, now: this.now, ...(signal ? { signal } : {}) }, operation);
  }

  /** Runs `change` in the turn a lease ending at `leaseExpiresAt` gives: it ends a margin before the lease does. */
  private holding<T>(leaseExpiresAt: number, change: () => Promise<T>): Promise<T> {
    const margin = this.options.leaseMarginMs ?? leaseMarginSeconds * 1000;
    return inTurn(narrowTurn(currentTurn(), leaseExpiresAt - margin, this.now), change);
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
      const pending = this.pendingRecord(app, credentialType, grant, claimToken);
      const outcome = await this.options.registry.claim(pending, this.now());
      if (outcome.claimed) {
        const issued = await this.holding(pending.leaseExpiresAt, () => this.issue(app, provisioner, grant, claimToken, outcome.previous));
        return this.respond(credentialType, issued);
      }

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
      const issued = await provisioner.reveal(credentialRef(record));
      if (issued) return this.respond(record.credentialType, issued);
    }

    const lease = this.lease(randomUUID());
    const hold = await registry.hold(record.appKey, credentialId, lease, this.now());
    if (!hold.held) return undefined;
    this.noteTakeover(hold.tookOver, record.appKey);
    const issued = await this.holding(lease.leaseExpiresAt, async () => {
      const current = await this.underHold(record.appKey, lease.claimToken, async () => {
        const held = credentialRef(hold.record);
        if (!(await provisioner.reveal(held))) return undefined;
        await this.removeTakenOverLeftovers(provisioner, hold);
        const placement = await this.regrantCounted(provisioner, hold.record, grant);
        const revealed = await provisioner.reveal(placedAt(hold.record, placement));
        return revealed && { issued: revealed, placement };
      });
      if (current) await this.recordGrant(record.appKey, lease.claimToken, grant, current.placement);
      else {
        await this.releaseCapacity(provisioner, hold.record);
        await this.recordRevoked(record.appKey, lease.claimToken, 'MARK_GONE');
      }
      return current?.issued;
    });
    if (!issued) {
      logger.warn('Registered credential no longer exists in AWS; issuing a new one', { appKey: record.appKey, credentialId });
      return undefined;
    }
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
      const hold = await this.holdForChange(record, giveUpAt);
      if (hold === undefined) continue;
      const provisioner = this.provisionerFor(record.credentialType);
      await this.holding(hold.leaseExpiresAt, async () => {
        const placement = await this.underHold(record.appKey, hold.claimToken, async () => {
          await this.removeTakenOverLeftovers(provisioner, hold);
          return this.regrantCounted(provisioner, hold.record, grant);
        });
        await this.recordGrant(record.appKey, hold.claimToken, grant, placement);
      });
      logger.info('Credential updated', { appKey: record.appKey, credentialId, ...grant });
      return;
    }
  }

  /**
   * Holds an issued credential for one change; undefined when another call took the app between
   * our read and our hold (read it again), 409 once the wait budget is spent.
   */
  private async holdForChange(
    record: CredentialRecord,
    giveUpAt: number,
  ): Promise<{ claimToken: string; leaseExpiresAt: number; record: CredentialRecord; tookOver?: boolean } | undefined> {
    const lease = this.lease(randomUUID());
    const hold = await this.options.registry.hold(record.appKey, record.credentialId as string, lease, this.now());
    if (!hold.held) {
      if (this.now() >= giveUpAt) throw changeInProgress();
      return undefined;
    }
    this.noteTakeover(hold.tookOver, record.appKey);
    return { ...lease, record: hold.record, ...(hold.tookOver === undefined ? {} : { tookOver: hold.tookOver }) };
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
      const hold = await this.holdForChange(record, giveUpAt);
      if (hold === undefined) continue;
      await this.holding(hold.leaseExpiresAt, async () => {
        await this.underHold(record.appKey, hold.claimToken, async () => {
          await this.removeTakenOverLeftovers(provisioner, hold);
          await provisioner.revoke(credentialRef(hold.record));
          await this.releaseCapacity(provisioner, hold.record);
        });
        await this.recordRevoked(record.appKey, hold.claimToken, 'REVOKE');
      });
      logger.info('Credential revoked', { appKey: record.appKey, credentialId });
      return;
    }
  }

  /**
   * The create that held this claim died. Take its claim first, so that no create can issue
   * while its leftovers are deleted; if the cleanup fails, the claim stays for the next call.
   */
  private async revokeCrashedCreate(record: CredentialRecord, provisioner: Provisioner): Promise<void> {
    const lease = this.lease(randomUUID());
    const taken = await this.options.registry.claim({ ...record, ...lease }, this.now());
    if (!taken.claimed) throw conflict('APP_STATE_CHANGING', 'The credentials of this app changed while this request ran; retry it.');
    await this.holding(lease.leaseExpiresAt, async () => {
      await provisioner.removeLeftovers(record);
      await this.options.capacity?.release(record.credentialType, provisioner.placesOf(grantOf(record)), record.appKey);
      const marked = await this.options.registry.markRevoked(record.appKey, lease.claimToken, this.isoNow(), { action: 'REVOKE' });
      this.expectOwnWrite(marked, record.appKey);
    });
  }

  private async issue(
    app: AppIdentity,
    provisioner: Provisioner,
    grant: Grant,
    claimToken: string,
    previous: CredentialRecord | undefined,
  ): Promise<IssuedCredential> {
    const { registry } = this.options;
    let issued: IssuedCredential;
    try {
      // The claim replaced an expired one, or may have (see ClaimOutcome): look for what its create left.
      if (previous?.state === 'PENDING') {
        const removed = await this.provisionerFor(previous.credentialType).removeLeftovers(app);
        logger.warn('Took over a claim whose create may not have finished', { appKey: app.appKey, leftoversRemoved: removed });
      }
      // Booked before anything is made: a full quota answers 503 with nothing to undo.
      await this.options.capacity?.reserve(provisioner.credentialType, provisioner.placesOf(grant), app.appKey);
      issued = await provisioner.create(app, grant);
    } catch (error) {
      // What AWS may still hold keeps the claim (and what it booked): once its lease expires, the next
      // call cleans it up. Otherwise the app goes back to how it was (an earlier expired claim included).
      if (!(error instanceof LeftoversError) && !turnEnded(error)) {
        await this.options.capacity?.release(provisioner.credentialType, provisioner.placesOf(grant), app.appKey);
        await this.releaseClaimQuietly(app.appKey, claimToken, previous);
      }
      throw error;
    }

    let activated: boolean;
    try {
      activated = await registry.activate(app.appKey, claimToken, issued.credentialId, this.isoNow(), 'CREATE', placementOf(issued));
    } catch (error) {
      // Past its turn the claim may be another's: what this call made is the next holder's to find and delete.
      if (turnEnded(error)) throw error;
      // Not recorded means not ours to keep: delete it, and release the claim only once it is gone.
      try {
        await provisioner.revoke(issued);
      } catch (rollbackFailure) {
        // The claim stays ours until its lease ends, and the next call deletes what carries the app's name.
        logger.error('A credential that could not be recorded could not be deleted either', {
          appKey: app.appKey,
          credentialId: issued.credentialId,
          errorName: (rollbackFailure as Error).name,
        });
        throw new LeftoversError(error, rollbackFailure);
      }
      await this.options.capacity?.release(provisioner.credentialType, provisioner.placesOf(grant, issued), app.appKey);
      await this.releaseClaimQuietly(app.appKey, claimToken, previous);
      throw error;
    }
    if (!activated) {
      // Within the turn, only this write can have taken the claim: it was applied, and a revoke since
      // deleted the credential (anything else keeps its id on the record). Past the turn, nothing is known.
      const turn = currentTurn();
      if (!turn || isTurnOver(turn)) throw new TurnOverError(true);
      throw stateChanging();
    }
    this.options.capacity?.published(provisioner.quotasTaken(grant));
    logger.info('Credential created', {
      appKey: app.appKey,
      credentialType: provisioner.credentialType,
      credentialId: issued.credentialId,
      ...grant,
    });
    return issued;
  }

  /** By credential id when the request carries one, else by the app; the request's developer, if named, must be the app's. */
  private async locate(request: RevokeCredentialsRequest | UpdateCredentialsRequest): Promise<CredentialRecord | undefined> {
    const credentialId = credentialIdOf(request);
    const appKey = appKeyOf(request);
    if (credentialId === undefined) return this.expectDeveloper(appKey === undefined ? undefined : await this.options.registry.get(appKey), request);
    const record =
      (await this.options.registry.findByCredentialId(credentialId, appKey)) ??
      (appKey === undefined ? await this.locateThroughAws(request.credentialType, credentialId) : undefined);
    // An app first created without a slug is keyed by a hash and holds none to compare with.
    if (record?.appSlug !== undefined && request.appSlug !== undefined && record.appSlug !== request.appSlug) {
      throw conflict('CREDENTIAL_APP_MISMATCH', 'The credential id belongs to a different app than the appSlug names.');
    }
    return this.expectDeveloper(record, request);
  }

  /**
   * The registry's index lags its table, so a credential named by id alone may be missing from it
   * for a moment after its create. AWS says whether it exists and, where it can, for which app: that
   * app's record, read consistently, decides. What exists but cannot be placed yet is answered 409,
   * never as nothing to do: a 204 tells the portal the credential is gone.
   */
  private async locateThroughAws(credentialType: CredentialType, credentialId: string): Promise<CredentialRecord | undefined> {
    const provisioner = this.provisioners.get(credentialType);
    const whereabouts = await provisioner?.whereabouts(credentialId);
    if (!whereabouts?.ours) return undefined;
    const record = whereabouts.appKey === undefined ? undefined : await this.options.registry.get(whereabouts.appKey);
    // A create still making it, or its crashed claim: the usual turns decide what happens to it.
    if (record?.credentialId === credentialId || record?.state === 'PENDING') return record;
    throw conflict(
      'CREDENTIAL_NOT_SETTLED',
      'The credential exists in AWS, but the registry does not show it yet; retry in a few seconds, or name the appSlug.',
    );
  }

  private expectDeveloper(record: CredentialRecord | undefined, request: { developer?: string }) {
    if (record && request.developer !== undefined && record.developer.toLowerCase() !== request.developer.toLowerCase()) {
      throw conflict('APP_DEVELOPER_MISMATCH', 'This credential was issued to another developer than the request names.');
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
    const turn = currentTurn();
    if (turn && isTurnOver(turn)) throw new TurnOverError(false);
    if (this.now() >= giveUpAt) throw busy();
    await sleep(this.options.pollMs ?? 200);
  }

  /**
   * Regrants a held credential, booking the places the grant adds before anything is made there and
   * giving back those it no longer lives in. A regrant that failed and was undone gives back what it booked.
   */
  private async regrantCounted(provisioner: Provisioner, record: CredentialRecord, grant: Grant): Promise<Placement> {
    const { capacity } = this.options;
    const held = credentialRef(record);
    const before = provisioner.placesOf(grantOf(record), held);
    const added = provisioner.placesOf(grant, held).filter((place) => !before.includes(place));
    await capacity?.reserve(provisioner.credentialType, added, record.appKey);
    let placement: Placement;
    try {
      placement = await provisioner.regrant(held, grant);
    } catch (error) {
      if (!(error instanceof LeftoversError) && !turnEnded(error)) await capacity?.release(provisioner.credentialType, added, record.appKey);
      throw error;
    }
    capacity?.published(provisioner.quotasTaken(grant));
    const after = provisioner.placesOf(grant, placedAt(record, placement));
    await capacity?.release(
      provisioner.credentialType,
      before.filter((place) => !after.includes(place)),
      record.appKey,
    );
    return placement;
  }

  /** Gives back every place a credential that is gone took up. */
  private async releaseCapacity(provisioner: Provisioner, record: CredentialRecord) {
    await this.options.capacity?.release(provisioner.credentialType, provisioner.placesOf(grantOf(record), credentialRef(record)), record.appKey);
  }

  /**
   * A change that crashed may have made what the record does not name (an API key in a place an
   * update was adding): the holder that takes its hold over deletes it before changing anything.
   */
  private async removeTakenOverLeftovers(provisioner: Provisioner, hold: { record: CredentialRecord; tookOver?: boolean }) {
    if (!hold.tookOver) return;
    const { record } = hold;
    const recorded = [record.credentialId as string, ...Object.values(record.placedIds ?? {})];
    const removed = await provisioner.removeLeftovers(record, recorded);
    if (removed > 0) logger.warn('Removed what a crashed change left', { appKey: record.appKey, leftoversRemoved: removed });
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
  private async recordGrant(appKey: string, claimToken: string, grant: Grant, placement: Placement) {
    let recorded: boolean;
    try {
      recorded = await this.options.registry.recordGrant(appKey, claimToken, grant, this.isoNow(), { action: 'UPDATE' }, placementOf(placement));
    } catch (error) {
      throw turnEnded(error) ? error : new LeftoversError(error);
    }
    this.expectOwnWrite(recorded, appKey);
  }

  /**
   * Records that the credential is gone from AWS, giving up the hold. If the registry fails, the
   * hold is given up anyway: whoever comes next finds the credential gone and records it.
   */
  private async recordRevoked(appKey: string, claimToken: string, action: 'REVOKE' | 'MARK_GONE') {
    let recorded: boolean;
    try {
      recorded = await this.options.registry.markRevoked(appKey, claimToken, this.isoNow(), { action });
    } catch (error) {
      if (!turnEnded(error)) await this.releaseHoldQuietly(appKey, claimToken);
      throw error;
    }
    this.expectOwnWrite(recorded, appKey);
  }

  /**
   * A holder's conditional write answered "not applied". Within its turn nobody else may take the
   * app, and the holder's writes run one after another, so the token the condition missed was
   * removed by this very write, applied by an attempt whose answer was lost. Past its turn nothing
   * can be told: the outcome is unknown, and the portal's retry finds out.
   */
  private expectOwnWrite(applied: boolean, appKey: string) {
    if (applied) return;
    const turn = currentTurn();
    if (!turn || isTurnOver(turn)) throw new TurnOverError(true);
    logger.info('A registry write retried after a lost answer found its own effect', { appKey });
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
