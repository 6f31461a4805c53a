import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict, notFound, unprocessable } from '#contract/errors';
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
  /** How long a claim protects a create in progress; longer than the function's timeout. */
  leaseMs: number;
  /** How long a repeated create waits for the first to finish before answering 409. */
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

/** Turns spent on records that change under us (revoked, deleted) rather than on waiting for a create. */
const maxTurnsWithoutWaiting = 3;

const inProgress = () =>
  conflict('CREATE_IN_PROGRESS', 'Credentials for this app are still being created by an earlier request; retry in a few seconds.');

/**
 * The credential lifecycle the portal drives: the registry decides whether to act
 * (ownership, retries, concurrency), a provisioner does the AWS work.
 */
export class CredentialsService {
  private readonly provisioners: Map<CredentialType, Provisioner>;
  private readonly now: () => number;

  constructor(private readonly options: CredentialsServiceOptions) {
    this.provisioners = new Map(options.provisioners.map((provisioner) => [provisioner.credentialType, provisioner]));
    this.now = options.now ?? Date.now;
  }

  create(request: CreateCredentialsRequest): Promise<CreateCredentialsResponse> {
    return this.recordingFailure('CREATE', request, () => reported('creating the credential', () => this.createOrReplay(request)));
  }

  update(request: UpdateCredentialsRequest): Promise<void> {
    return this.recordingFailure('UPDATE', request, () => reported('updating the credential', () => this.regrant(request)));
  }

  revoke(request: RevokeCredentialsRequest): Promise<void> {
    return this.recordingFailure('REVOKE', request, () => reported('revoking the credential', () => this.remove(request)));
  }

  private async createOrReplay(request: CreateCredentialsRequest): Promise<CreateCredentialsResponse> {
    const app = appIdentityOf(request);
    const { credentialType, grant } = this.options.policy.resolve(request.apis);
    const provisioner = this.provisionerFor(credentialType);
    const giveUpAt = this.now() + this.options.waitMs;

    // Each turn either claims the app and issues, returns what an earlier call issued,
    // or waits for a create in progress; bounded by the wait budget and a few turns.
    for (let turn = 1; ; turn++) {
      const claimToken = randomUUID();
      const outcome = await this.options.registry.claim(this.pendingRecord(app, credentialType, grant, claimToken), this.now());
      if (outcome.claimed) return this.issue(app, provisioner, grant, claimToken, outcome.previous);

      const current = outcome.current;
      if (current?.state === 'ACTIVE') {
        const issued = await this.reveal(current);
        if (issued) return issued;
        // Deleted in AWS behind our back: record that, then issue a new one.
        logger.warn('Registered credential no longer exists in AWS; issuing a new one', { appKey: app.appKey, credentialId: current.credentialId });
        await this.options.registry.markRevoked(current.appKey, { credentialId: current.credentialId }, this.isoNow());
        await this.options.history?.record(historyEntry({ ...current, action: 'MARK_GONE', before: current }));
      }
      if (current?.state === 'PENDING') {
        if (this.now() >= giveUpAt) throw inProgress();
        await sleep(this.options.pollMs ?? 200);
      } else if (turn >= maxTurnsWithoutWaiting) {
        throw conflict('APP_STATE_CHANGING', 'The credentials of this app changed repeatedly while this request ran; retry it.');
      }
    }
  }

  private async regrant(request: UpdateCredentialsRequest): Promise<void> {
    const record = await this.locate(request);
    if (!record || record.state === 'REVOKED') {
      throw notFound('No credential this webhook created matches the request; create it first.');
    }
    this.expectType(record, request.credentialType);
    if (record.state === 'PENDING') {
      if (this.leaseRunning(record)) throw inProgress();
      throw notFound('The create that was making this credential did not finish; create it again.');
    }
    const { credentialType, grant } = this.options.policy.resolve(request.apis);
    if (credentialType !== record.credentialType) {
      throw unprocessable(
        'CREDENTIAL_TYPE_CHANGE',
        `The requested APIs need ${credentialType}, but this app holds ${record.credentialType}; revoke it and create new credentials.`,
      );
    }
    const credentialId = record.credentialId as string;
    await this.provisionerFor(record.credentialType).regrant(credentialId, grant);
    if (!(await this.options.registry.recordGrant(record.appKey, credentialId, grant, this.isoNow()))) {
      throw conflict('CREDENTIAL_CHANGED', 'The credential was revoked or replaced while it was being updated.');
    }
    await this.options.history?.record(historyEntry({ ...record, action: 'UPDATE', before: record, after: grant }));
    logger.info('Credential updated', { appKey: record.appKey, credentialId, ...grant });
  }

  private async remove(request: RevokeCredentialsRequest): Promise<void> {
    const record = await this.locate(request);
    if (!record || record.state === 'REVOKED') {
      logger.info('Nothing to revoke', { credentialId: credentialIdOf(request), appKey: appKeyOf(request) });
      return;
    }
    this.expectType(record, request.credentialType);
    const provisioner = this.provisionerFor(record.credentialType);
    if (record.state === 'PENDING') {
      if (this.leaseRunning(record)) throw inProgress();
      // The create that held this claim died. Take its claim first, so that no create can issue
      // while its leftovers are deleted; if the cleanup fails, the claim stays for the next call.
      const claimToken = randomUUID();
      const taken = await this.options.registry.claim({ ...record, claimToken, leaseExpiresAt: this.now() + this.options.leaseMs }, this.now());
      if (!taken.claimed) throw conflict('APP_STATE_CHANGING', 'The credentials of this app changed while this request ran; retry it.');
      await provisioner.removeLeftovers(record);
      await this.options.registry.markRevoked(record.appKey, { claimToken }, this.isoNow());
      await this.options.history?.record(historyEntry({ ...record, action: 'REVOKE', before: record }));
      return;
    }
    await provisioner.revoke(record.credentialId as string);
    await this.options.registry.markRevoked(record.appKey, { credentialId: record.credentialId }, this.isoNow());
    await this.options.history?.record(historyEntry({ ...record, action: 'REVOKE', before: record }));
    logger.info('Credential revoked', { appKey: record.appKey, credentialId: record.credentialId });
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
      if (previous?.state === 'PENDING') {
        const removed = await this.provisionerFor(previous.credentialType).removeLeftovers(app);
        logger.warn('Took over an expired claim', { appKey: app.appKey, leftoversRemoved: removed });
      }
      issued = await provisioner.create(app, grant);
    } catch (error) {
      // What AWS may still hold keeps the claim: once its lease expires, the next call cleans it
      // up. Otherwise the app goes back to how it was (an earlier expired claim included).
      if (!(error instanceof LeftoversError)) await this.releaseQuietly(app.appKey, claimToken, previous);
      throw error;
    }

    try {
      if (!(await registry.activate(app.appKey, claimToken, issued.credentialId, this.isoNow()))) {
        throw conflict('CLAIM_LOST', 'This request took too long and another one took over; retry it.');
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
      await this.releaseQuietly(app.appKey, claimToken, previous);
      throw error;
    }
    await this.options.history?.record(
      historyEntry({ appKey: app.appKey, action: 'CREATE', credentialType: provisioner.credentialType, credentialId: issued.credentialId, after: grant }),
    );
    logger.info('Credential created', { appKey: app.appKey, credentialType: provisioner.credentialType, credentialId: issued.credentialId });
    return this.respond(provisioner.credentialType, issued);
  }

  private async reveal(record: CredentialRecord): Promise<CreateCredentialsResponse | undefined> {
    const issued = await this.provisionerFor(record.credentialType).reveal(record.credentialId as string);
    return issued && this.respond(record.credentialType, issued);
  }

  /** By credential id when the request carries one, else by the app. */
  private async locate(request: RevokeCredentialsRequest | UpdateCredentialsRequest): Promise<CredentialRecord | undefined> {
    const credentialId = credentialIdOf(request);
    const appKey = appKeyOf(request);
    if (credentialId === undefined) return appKey === undefined ? undefined : this.options.registry.get(appKey);
    const record = await this.options.registry.findByCredentialId(credentialId);
    // An app first created without a slug is keyed by a hash and holds none to compare with.
    if (record?.appSlug !== undefined && request.appSlug !== undefined && record.appSlug !== request.appSlug) {
      throw conflict('CREDENTIAL_APP_MISMATCH', 'The credential id belongs to a different app than the appSlug names.');
    }
    return record;
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
    return { ...app, ...grant, credentialType, state: 'PENDING' as const, claimToken, leaseExpiresAt: now + this.options.leaseMs, createdAt: iso, updatedAt: iso };
  }

  private leaseRunning(record: CredentialRecord) {
    return (record.leaseExpiresAt ?? 0) > this.now();
  }

  private async releaseQuietly(appKey: string, claimToken: string, previous: CredentialRecord | undefined) {
    try {
      await this.options.registry.release(appKey, claimToken, previous);
    } catch (error) {
      logger.warn('Could not release the claim; it expires with its lease', { appKey, errorName: (error as Error).name });
    }
  }

  /** A change that failed on AWS's side may have happened in part: the history says it was tried. */
  private async recordingFailure<T>(action: HistoryAction, request: Parameters<typeof appKeyOf>[0] & { credentialType?: CredentialType }, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const appKey = appKeyOf(request);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (appKey !== undefined && status >= 500) {
        const outcome = (error as { code?: string }).code ?? 'INTERNAL_ERROR';
        await this.options.history?.record(historyEntry({ appKey, action, ...(request.credentialType ? { credentialType: request.credentialType } : {}), outcome }));
      }
      throw error;
    }
  }

  private isoNow() {
    return new Date(this.now()).toISOString();
  }
}
