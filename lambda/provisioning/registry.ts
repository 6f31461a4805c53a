import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, paginateScan, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CredentialType } from '#contract/schemas';
import type { AppIdentity, Grant } from './provisioner.ts';

/** PENDING: claimed, being created. ACTIVE: issued. REVOKED: deleted, kept for the record. */
export type CredentialState = 'PENDING' | 'ACTIVE' | 'REVOKED';

/** What the webhook knows of one app's credential. Never a secret value. */
export interface CredentialRecord extends AppIdentity, Grant {
  credentialType: CredentialType;
  state: CredentialState;
  credentialId?: string;
  /** Identifies the invocation holding a PENDING claim, and until when it may hold it (epoch ms). */
  claimToken?: string;
  leaseExpiresAt?: number;
  createdAt: string;
  updatedAt: string;
  revokedAt?: string;
}

export type ClaimOutcome =
  | { claimed: true; previous?: CredentialRecord }
  | { claimed: false; current?: CredentialRecord };

export const credentialIdIndex = 'byCredentialId';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';

/**
 * The DynamoDB table of credentials this webhook created: the proof of ownership
 * and the lock that makes createCredentials safe to repeat. Keyed by app key,
 * with a sparse index on the credential id.
 */
export class Registry {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(appKey: string): Promise<CredentialRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { appKey }, ConsistentRead: true }));
    return Item as CredentialRecord | undefined;
  }

  async findByCredentialId(credentialId: string): Promise<CredentialRecord | undefined> {
    const { Items = [] } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: credentialIdIndex,
        KeyConditionExpression: 'credentialId = :id',
        ExpressionAttributeValues: { ':id': credentialId },
      }),
    );
    // One item per app, and AWS never reuses an id: at most one record matches.
    return Items[0] as CredentialRecord | undefined;
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
          Item: pending,
          ConditionExpression: 'attribute_not_exists(appKey) OR #state = :revoked OR (#state = :pending AND leaseExpiresAt < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':revoked': 'REVOKED', ':pending': 'PENDING', ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { claimed: true, previous: Attributes as CredentialRecord | undefined };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { claimed: false, current: await this.get(pending.appKey) };
    }
  }

  /** Turns our claim into the issued credential; false when the claim is no longer ours. */
  async activate(appKey: string, claimToken: string, credentialId: string, now: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: 'SET #state = :active, credentialId = :id, updatedAt = :now REMOVE claimToken, leaseExpiresAt',
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':active': 'ACTIVE', ':id': credentialId, ':now': now, ':token': claimToken },
      }),
    );
  }

  /** Gives the claim up after a failed create: the previous record comes back, or none. */
  async release(appKey: string, claimToken: string, previous?: CredentialRecord): Promise<boolean> {
    const condition = { ConditionExpression: 'claimToken = :token', ExpressionAttributeValues: { ':token': claimToken } };
    return this.conditionally(
      previous
        ? new PutCommand({ TableName: this.tableName, Item: previous, ...condition })
        : new DeleteCommand({ TableName: this.tableName, Key: { appKey }, ...condition }),
    );
  }

  /** Records the grant an update brought the credential to. */
  async recordGrant(appKey: string, credentialId: string, grant: Grant, now: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: 'SET apiIds = :apis, usagePlanIds = :plans, scopes = :scopes, updatedAt = :now',
        ConditionExpression: '#state = :active AND credentialId = :id',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':apis': grant.apiIds,
          ':plans': grant.usagePlanIds,
          ':scopes': grant.scopes,
          ':now': now,
          ':active': 'ACTIVE',
          ':id': credentialId,
        },
      }),
    );
  }

  /** Marks the credential revoked; false when it was not in the expected state. */
  async markRevoked(appKey: string, expected: { credentialId?: string; claimToken?: string }, now: string): Promise<boolean> {
    const byId = expected.credentialId !== undefined;
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey },
        UpdateExpression: 'SET #state = :revoked, updatedAt = :now, revokedAt = :now REMOVE claimToken, leaseExpiresAt',
        ConditionExpression: byId ? 'credentialId = :expected' : 'claimToken = :expected',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':revoked': 'REVOKED', ':now': now, ':expected': byId ? expected.credentialId : expected.claimToken },
      }),
    );
  }

  /** Every record, one page at a time (consistent reads): what the audit compares AWS with. */
  async *scan(pageSize = 1000): AsyncGenerator<CredentialRecord[]> {
    for await (const page of paginateScan({ client: this.documents, pageSize }, { TableName: this.tableName, ConsistentRead: true })) {
      yield (page.Items ?? []) as CredentialRecord[];
    }
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
        UpdateExpression: 'SET claimToken = :token, leaseExpiresAt = :lease',
        ConditionExpression: '#state = :pending AND claimToken = :stuck AND leaseExpiresAt < :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':token': claimToken, ':lease': leaseExpiresAt, ':pending': 'PENDING', ':stuck': stuck.claimToken, ':now': now },
      }),
    );
  }

  private async conditionally(command: UpdateCommand | PutCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.documents.send(command as never);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
