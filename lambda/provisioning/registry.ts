import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, paginateScan, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CredentialType } from '#contract/schemas';
import { type ChangeDetails, type LastChange, lastChange } from '#history/last-change';
import type { AppIdentity, Grant, Placement } from './provisioner.ts';

/** PENDING: claimed, being created. ACTIVE: issued. REVOKED: deleted, kept for the record. */
export type CredentialState = 'PENDING' | 'ACTIVE' | 'REVOKED';

/** What the webhook knows of one app's credential. Never a secret value. */
export interface CredentialRecord extends AppIdentity, Grant, Placement {
  credentialType: CredentialType;
  state: CredentialState;
  credentialId?: string;
  /**
   * The invocation that holds the app, and until when it may (epoch ms): a create's PENDING
   * claim, or a change (update, revoke, a repeated create) to an ACTIVE credential.
   */
  claimToken?: string;
  leaseExpiresAt?: number;
  createdAt: string;
  updatedAt: string;
  revokedAt?: string;
  /** Who made the record's last change, why and when: every write sets it, and the history is made from it. */
  lastChange?: LastChange;
}

/** The changes a record's credential goes through, as its writer names them for the history. */
export type IssueAction = 'CREATE' | 'FINISH_CLAIM';
export type GrantAction = 'UPDATE' | 'REGRANT';
export type RevokeAction = 'REVOKE' | 'MARK_GONE' | 'MARK_REVOKED' | 'RELEASE_CLAIM';

/**
 * `previous`: the record the claim replaced, none when the app had none. When that is unknown (the
 * write was applied by an attempt whose answer was lost), this claim with its lease run out: the most
 * cautious guess, a crashed create, so that its leftovers are looked for and, put back by `releaseClaim`,
 * it leaves an expired claim that the next call takes over.
 */
export type ClaimOutcome = { claimed: true; previous?: CredentialRecord } | { claimed: false; current?: CredentialRecord };

/**
 * `tookOver`: the app was held by a call whose lease ran out (it crashed or timed out midway);
 * undefined when unknown (the hold was applied by an attempt whose answer was lost).
 */
export type HoldOutcome = { held: true; record: CredentialRecord; tookOver?: boolean } | { held: false; current?: CredentialRecord };

export const credentialIdIndex = 'byCredentialId';

/** The grant a record holds (a record written before a field existed lacks it: none). */
export const grantOf = (record: Partial<Grant>): Grant => ({
  apiIds: record.apiIds ?? [],
  usagePlanIds: record.usagePlanIds ?? [],
  scopes: record.scopes ?? [],
});

/**
 * How the keys of the table's items that are not apps start (acknowledgements, capacity gauges): no app key
 * holds a `#` (a portal slug is letters, digits, `.`, `-` and `_`; a derived key starts `sha256-`).
 */
export const reservedKeyPrefix = '#';

/** Whether a registry item is something other than an app's record (an acknowledgement, a capacity gauge). */
export const isReservedItem = (item: { appKey?: unknown }): boolean => typeof item.appKey === 'string' && item.appKey.startsWith(reservedKeyPrefix);

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';

const sameList = (a: readonly string[] = [], b: readonly string[] = []) => a.length === b.length && a.every((item, index) => item === b[index]);

/** The update-expression parts that write a credential's placement: set it, or remove it when it is the id alone. */
const placementUpdate = ({ placedIds }: Placement) =>
  placedIds ? { set: ', placedIds = :placed', remove: '', values: { ':placed': placedIds } } : { set: '', remove: ', placedIds', values: {} };

const samePlacement = (a: Placement, b: Placement) => {
  const entries = (placement: Placement) => Object.entries(placement.placedIds ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(entries(a)) === JSON.stringify(entries(b));
};

/** Whether `current` is `expected` as it was written: the same state, holder, lease and last change. */
const sameVersion = (current: CredentialRecord | undefined, expected: CredentialRecord) =>
  current !== undefined &&
  current.state === expected.state &&
  current.credentialId === expected.credentialId &&
  current.claimToken === expected.claimToken &&
  current.leaseExpiresAt === expected.leaseExpiresAt &&
  current.updatedAt === expected.updatedAt;

/**
 * The DynamoDB table of credentials this webhook created: the proof of ownership,
 * and the lock that lets one call at a time change an app (a claim or hold with a
 * lease, taken by conditional write). Keyed by app key, with a sparse index on the
 * credential id.
 *
 * The SDK retries a write whose answer was lost (a time-out), and its first attempt may have
 * been applied: the retry then fails its condition. So a write whose condition fails reads the
 * record, and counts as done when the record shows that write's own effect (its claim token, the
 * credential id, grant or time it wrote). Should another call have changed the record since, the
 * write answers "not ours": cautious, never mistaken about what the record holds.
 *
 * Every write also sets `lastChange` (`#history/last-change`): who asked (`withCaller`), the action
 * its caller names, and when. The table's stream turns each change into a history entry from it,
 * so that a change made through this class always leaves its entry.
 */
export class Registry {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    /** The table; its reserved items (`#…`, such as the capacity gauges) share it. */
    readonly tableName: string,
  ) {}

  async get(appKey: string): Promise<CredentialRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { appKey }, ConsistentRead: true }));
    return Item as CredentialRecord | undefined;
  }

  /**
   * The record of a credential, as the table holds it now. The index is eventually consistent:
   * a hit is confirmed by a consistent read of its app, and a miss, when the caller knows which
   * app to expect (`appKey`), is checked by reading that app.
   */
  async findByCredentialId(credentialId: string, appKey?: string): Promise<CredentialRecord | undefined> {
    const { Items = [] } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: credentialIdIndex,
        KeyConditionExpression: 'credentialId = :id',
        ExpressionAttributeValues: { ':id': credentialId },
        ProjectionExpression: 'appKey',
      }),
    );
    // One item per app, and AWS never reuses an id: at most one app holds it.
    const candidate = (Items[0] as { appKey?: string } | undefined)?.appKey ?? appKey;
    if (candidate === undefined) return undefined;
    const record = await this.get(candidate);
    return record?.credentialId === credentialId ? record : undefined;
  }

  /**
   * Takes the app for one invocation: succeeds when the app has no record, a revoked
   * one, or a PENDING one whose lease ran out (its holder crashed or timed out).
   */
  async claim(pending: CredentialRecord & { claimToken: string; leaseExpiresAt: number }, now: number): Promise<ClaimOutcome> {
    try {
      const { Attributes } = await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...pending, lastChange: lastChange('CLAIM', new Date(now).toISOString()) },
          ConditionExpression: 'attribute_not_exists(appKey) OR #state = :revoked OR (#state = :pending AND leaseExpiresAt < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':revoked': 'REVOKED', ':pending': 'PENDING', ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { claimed: true, previous: Attributes as CredentialRecord | undefined };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.get(pending.appKey);
      if (current?.claimToken === pending.claimToken) return { claimed: true, previous: { ...pending, leaseExpiresAt: 0 } };
      return { claimed: false, current };
    }
  }

  /** Turns our claim into the issued credential (and where it lives); false when the claim is no longer ours. */
  async activate(
    appKey: string,
    claimToken: string,
    credentialId: string,
    now: string,
    action: IssueAction = 'CREATE',
    placement: Placement = {},
  ): Promise<boolean> {
    const placed = placementUpdate(placement);
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: `SET #state = :active, credentialId = :id, updatedAt = :now, lastChange = :change${placed.set} REMOVE claimToken, leaseExpiresAt${placed.remove}`,
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':active': 'ACTIVE',
          ':id': credentialId,
          ':now': now,
          ':token': claimToken,
          ':change': lastChange(action, now),
          ...placed.values,
        },
      }),
      // AWS never reuses a credential id: only this call can have recorded it.
      { appKey, applied: (current) => current?.state === 'ACTIVE' && current.credentialId === credentialId && samePlacement(current, placement) },
    );
  }

  /**
   * Gives the claim up after a failed create: the previous record comes back, or none. A DeleteItem
   * can write no `lastChange`: the history knows a removed PENDING record as a claim given up.
   */
  async releaseClaim(appKey: string, claimToken: string, previous?: CredentialRecord): Promise<boolean> {
    const condition = { ConditionExpression: 'claimToken = :token', ExpressionAttributeValues: { ':token': claimToken } };
    return previous
      ? this.conditionally(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...previous, lastChange: lastChange('RELEASE', new Date().toISOString()) },
            ...condition,
          }),
          {
            appKey,
            applied: (current) => sameVersion(current, previous),
          },
        )
      : this.conditionally(new DeleteCommand({ TableName: this.tableName, Key: { appKey }, ...condition }), {
          appKey,
          applied: (current) => current === undefined,
        });
  }

  /**
   * Takes an issued credential for one change (update, revoke, a repeated create): succeeds
   * when the app is ACTIVE with this credential and nobody holds it, or its holder's lease ran out.
   * `record` is the record as the hold found it (with this hold's token): read in the same write, so
   * a holder acts on what it holds, never on what it read before.
   */
  async hold(appKey: string, credentialId: string, claim: { claimToken: string; leaseExpiresAt: number }, now: number): Promise<HoldOutcome> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { appKey },
          UpdateExpression: 'SET claimToken = :token, leaseExpiresAt = :lease, lastChange = :change',
          ConditionExpression: '#state = :active AND credentialId = :id AND (attribute_not_exists(claimToken) OR leaseExpiresAt < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':token': claim.claimToken,
            ':lease': claim.leaseExpiresAt,
            ':change': lastChange('HOLD', new Date(now).toISOString()),
            ':active': 'ACTIVE',
            ':id': credentialId,
            ':now': now,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const found = Attributes as CredentialRecord | undefined;
      // The condition needs the item, so DynamoDB returns it; held, it can be read again should an answer lack it.
      const record = found ? { ...found, ...claim } : ((await this.get(appKey)) as CredentialRecord);
      return { held: true, record, tookOver: found?.claimToken !== undefined };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Our own hold, applied by an attempt whose answer was lost: nobody can have changed the record since.
      const current = await this.get(appKey);
      if (current?.claimToken === claim.claimToken) return { held: true, record: current };
      return { held: false, current };
    }
  }

  /** Gives up a hold that changed nothing. */
  async releaseHold(appKey: string, claimToken: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: 'SET lastChange = :change REMOVE claimToken, leaseExpiresAt',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeValues: { ':token': claimToken, ':change': lastChange('RELEASE', new Date().toISOString()) },
      }),
    );
  }

  /** Records the grant the holder brought the credential to (and where it now lives), and gives up the hold. */
  async recordGrant(
    appKey: string,
    claimToken: string,
    grant: Grant,
    now: string,
    change: { action: GrantAction; before?: Grant } = { action: 'UPDATE' },
    placement: Placement = {},
  ): Promise<boolean> {
    const placed = placementUpdate(placement);
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: `SET apiIds = :apis, usagePlanIds = :plans, scopes = :scopes, updatedAt = :now, lastChange = :change${placed.set} REMOVE claimToken, leaseExpiresAt${placed.remove}`,
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeValues: {
          ':apis': grant.apiIds,
          ':plans': grant.usagePlanIds,
          ':scopes': grant.scopes,
          ':now': now,
          ':token': claimToken,
          ':change': lastChange(change.action, now, change.before ? { before: change.before } : {}),
          ...placed.values,
        },
      }),
      {
        appKey,
        applied: (current) =>
          current?.state === 'ACTIVE' &&
          current.claimToken === undefined &&
          current.updatedAt === now &&
          sameList(current.apiIds, grant.apiIds) &&
          sameList(current.usagePlanIds, grant.usagePlanIds) &&
          sameList(current.scopes, grant.scopes) &&
          samePlacement(current, placement),
      },
    );
  }

  /** Marks the app's credential revoked, by the holder of the app (a hold or a create's claim). */
  async markRevoked(
    appKey: string,
    claimToken: string,
    now: string,
    change: { action: RevokeAction } & Pick<ChangeDetails, 'deletedCredentialIds'> = { action: 'REVOKE' },
  ): Promise<boolean> {
    const { action, ...details } = change;
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: 'SET #state = :revoked, updatedAt = :now, revokedAt = :now, lastChange = :change REMOVE claimToken, leaseExpiresAt',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':revoked': 'REVOKED', ':now': now, ':token': claimToken, ':change': lastChange(action, now, details) },
      }),
      { appKey, applied: (current) => current?.state === 'REVOKED' && current.claimToken === undefined && current.revokedAt === now },
    );
  }

  /** Every record, one page at a time (consistent reads): what the audit compares AWS with. */
  async *scan(pageSize = 1000): AsyncGenerator<CredentialRecord[]> {
    for await (const page of paginateScan({ client: this.documents, pageSize }, { TableName: this.tableName, ConsistentRead: true })) {
      yield (page.Items ?? []) as CredentialRecord[];
    }
  }

  /** Every create in progress or crashed (PENDING), read consistently: few, but found only by reading the table. */
  async pendingClaims(): Promise<CredentialRecord[]> {
    const claims: CredentialRecord[] = [];
    const scan = { TableName: this.tableName, ConsistentRead: true, FilterExpression: '#state = :pending' };
    const names = { ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':pending': 'PENDING' } };
    for await (const page of paginateScan({ client: this.documents }, { ...scan, ...names }))
      claims.push(...((page.Items ?? []) as CredentialRecord[]));
    return claims;
  }

  /**
   * Takes over one expired claim, and only that one: unlike `claim`, it fails if the record
   * changed since it was read (another call took the claim, revoked, or finished the create).
   */
  async takeOverClaim(stuck: CredentialRecord & { claimToken: string }, claimToken: string, leaseExpiresAt: number, now: number): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey: stuck.appKey },
        UpdateExpression: 'SET claimToken = :token, leaseExpiresAt = :lease, lastChange = :change',
        ConditionExpression: '#state = :pending AND claimToken = :stuck AND leaseExpiresAt < :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':token': claimToken,
          ':lease': leaseExpiresAt,
          ':pending': 'PENDING',
          ':stuck': stuck.claimToken,
          ':now': now,
          ':change': lastChange('TAKE_OVER', new Date(now).toISOString()),
        },
      }),
      { appKey: stuck.appKey, applied: (current) => current?.claimToken === claimToken },
    );
  }

  /**
   * Sends a conditional write of one app's record: true when applied. When its condition fails,
   * true all the same if `retried.applied` finds the write's own effect in the record (an earlier
   * attempt whose answer was lost applied it).
   */
  private async conditionally(
    command: UpdateCommand | PutCommand | DeleteCommand,
    retried?: { appKey: string; applied: (current: CredentialRecord | undefined) => boolean },
  ): Promise<boolean> {
    try {
      await this.documents.send(command as never);
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return retried ? retried.applied(await this.get(retried.appKey)) : false;
  }
}
