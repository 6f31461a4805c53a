import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Place, parsePlaceId, placeId } from '#commons/places';
import { quotaExceeded } from '#contract/errors';
import type { CountedQuota } from './capacity-names.ts';
import { reservedKeyPrefix } from './registry.ts';

export type { CapacityQuota, CountedQuota } from './capacity-names.ts';

/** One quota in one place: what a gauge counts. */
export interface Gauge {
  readonly quota: CountedQuota;
  /** `account/region` for API keys, the user pool id for app clients. */
  readonly place: string;
  /** How many the quota allows there. */
  readonly limit: number;
}

export interface CapacityLevel {
  used: number;
  limit: number;
}

/** API Gateway: 10,000 API keys per account and Region, a quota that cannot be increased. */
export const apiKeysPerRegion = 10_000;
/** Cognito: 1,000 app clients per user pool by default; adjustable, so a deployment may configure more. */
export const defaultAppClientsPerPool = 1_000;

const positiveLimit = (limit: number) => {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`a capacity limit is a positive whole number, not ${limit}`);
  return limit;
};

export const apiKeysGauge = (place: Place): Gauge => ({ quota: 'apiKeys', place: placeId(place), limit: apiKeysPerRegion });

export const appClientsGauge = (userPoolId: string, limit: number = defaultAppClientsPerPool): Gauge => ({
  quota: 'appClients',
  place: userPoolId,
  limit: positiveLimit(limit),
});

/** The registry item of a gauge: reserved (`#`), so no route, scan of apps or history entry takes it for an app. */
export const gaugeKey = (gauge: Pick<Gauge, 'quota' | 'place'>) => `${reservedKeyPrefix}gauge#${gauge.quota}#${gauge.place}`;

/**
 * How a gauge names an app: 16 hex digits of the app key's SHA-256. Fixed-size, so 10,000 members
 * take about 160 KB of the item's 400 KB; 64 bits make a collision among 10,000 apps about 3 in 10^12.
 */
export const memberOf = (appKey: string) => createHash('sha256').update(appKey).digest('hex').slice(0, 16);

/** A gauge as one consistent read found it, for `reconcile`. */
export interface GaugeSnapshot {
  readonly gauge: Gauge;
  readonly members: ReadonlySet<string>;
  readonly count: number;
  /** Bumped by every write; undefined when the gauge has no item yet. */
  readonly version: number | undefined;
}

export type ReconcileOutcome =
  | { reconciled: true; used: number; added: number; removed: number }
  /** The gauge changed after its snapshot (a reserve or release ran): nothing was written; take a new snapshot. */
  | { reconciled: false };

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';

const whereFull = (gauge: Gauge): string => {
  if (gauge.quota === 'appClients') return `App clients in user pool ${gauge.place}`;
  const { account, region } = parsePlaceId(gauge.place);
  return `API keys in account ${account}, Region ${region}`;
};

const remedy: Record<CountedQuota, string> = {
  apiKeys: 'the quota cannot be raised: revoke unused credentials, or serve further APIs from another Region or account',
  appClients: 'the platform team must raise the Cognito quota "App clients per user pool" or revoke unused credentials',
};

const amount = (value: number) => value.toLocaleString('en-US');

/** The 503 QUOTA_EXCEEDED a full gauge answers, e.g. "API keys in account 222222222222, Region eu-west-1: 10,000 of 10,000 in use; …". */
export const gaugeFull = (gauge: Gauge, used: number) =>
  quotaExceeded(`${whereFull(gauge)}: ${amount(used)} of ${amount(gauge.limit)} in use; ${remedy[gauge.quota]}.`);

// `count` is a DynamoDB reserved word; the others are named too, so no future word can break an expression.
const names = { '#members': 'members', '#count': 'count', '#version': 'version', '#quota': 'quota', '#place': 'place' };

/** A conditional write that lost may be retried this many times when the gauge neither holds the app nor is full. */
const maxReserveAttempts = 5;

/**
 * Capacity gauges, counted in the registry table: one reserved item per gauge, holding the String Set
 * of its members (`memberOf` each app) and their `count`. Each change is one conditional UpdateItem,
 * so the count stays exact without transactions:
 * - `reserve` adds the app only if it is not a member and the gauge is not full; a condition that fails
 *   is read consistently: a member already (a repeated call, or the SDK's retry of an attempt whose
 *   answer was lost) is done, a full gauge answers 503 QUOTA_EXCEEDED.
 * - `release` removes the app only if it is a member: releasing twice counts once.
 * - `reconcile` sets the members to the apps the caller knows are live (the audit), only if the gauge
 *   did not change since its snapshot.
 * `reserve` and `release` answer the level after the change, for `publishCapacityLevel`.
 */
export class CapacityGauges {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Counts `appKey` in `gauge`; throws the 503 QUOTA_EXCEEDED of `gaugeFull` when the gauge is full and the app not in it. */
  async reserve(gauge: Gauge, appKey: string): Promise<CapacityLevel> {
    const member = memberOf(appKey);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.change(gauge, {
          UpdateExpression: 'SET #quota = :quota, #place = :place ADD #members :member, #count :one, #version :one',
          ConditionExpression:
            '(attribute_not_exists(#members) OR NOT contains(#members, :hash)) AND (attribute_not_exists(#count) OR #count < :limit)',
          ExpressionAttributeValues: {
            ':quota': gauge.quota,
            ':place': gauge.place,
            ':member': new Set([member]),
            ':one': 1,
            ':hash': member,
            ':limit': gauge.limit,
          },
        });
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const current = await this.snapshot(gauge);
      if (current.members.has(member)) return { used: current.count, limit: gauge.limit };
      if (current.count >= gauge.limit) throw gaugeFull(gauge, current.count);
      // Neither: a release made room between the write and the read. Try again.
      if (attempt >= maxReserveAttempts) throw new Error(`the capacity gauge ${gaugeKey(gauge)} kept changing; retry`);
    }
  }

  /** Stops counting `appKey` in `gauge`; an app not counted (released already) changes nothing. */
  async release(gauge: Gauge, appKey: string): Promise<CapacityLevel> {
    const member = memberOf(appKey);
    try {
      return await this.change(gauge, {
        // DynamoDB removes a set that loses its last element: an empty gauge has no `members`.
        UpdateExpression: 'DELETE #members :member ADD #count :minusOne, #version :one',
        ConditionExpression: 'contains(#members, :hash)',
        ExpressionAttributeValues: { ':member': new Set([member]), ':minusOne': -1, ':one': 1, ':hash': member },
      });
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return this.level(gauge);
  }

  /** How much of the gauge is in use, read consistently. */
  async level(gauge: Gauge): Promise<CapacityLevel> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { appKey: gaugeKey(gauge) },
        ConsistentRead: true,
        ProjectionExpression: '#count',
        ExpressionAttributeNames: { '#count': 'count' },
      }),
    );
    return { used: Number(Item?.count ?? 0), limit: gauge.limit };
  }

  /**
   * The gauge as it is now, read consistently. For `reconcile`, take it BEFORE reading which apps are
   * live: an app reserved after the snapshot changes the version (and `reconcile` refuses), one reserved
   * before it had its record written first, so the live list read after the snapshot holds it.
   */
  async snapshot(gauge: Gauge): Promise<GaugeSnapshot> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { appKey: gaugeKey(gauge) }, ConsistentRead: true }));
    const members = (Item?.members as Set<string> | undefined) ?? new Set<string>();
    return {
      gauge,
      members,
      count: Number(Item?.count ?? 0),
      version: Item?.version === undefined ? undefined : Number(Item.version),
    };
  }

  /**
   * Makes the gauge count exactly `liveAppKeys` (the apps whose credential exists or is being made,
   * read after `snapshot`): it corrects a release that never ran (a crash between the revoke and the
   * release) or a reserve whose create was given up. Writes only if the gauge is still as the snapshot
   * found it, so it never overwrites a concurrent reserve or release; the count may exceed the limit
   * (credentials made before the gauge existed), and then reserves are refused until it falls.
   */
  async reconcile(snapshot: GaugeSnapshot, liveAppKeys: Iterable<string>): Promise<ReconcileOutcome> {
    const live = new Set([...liveAppKeys].map(memberOf));
    const added = [...live].filter((member) => !snapshot.members.has(member)).length;
    const removed = [...snapshot.members].filter((member) => !live.has(member)).length;
    if (added === 0 && removed === 0 && snapshot.count === live.size) return { reconciled: true, used: live.size, added, removed };
    const { gauge, version } = snapshot;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { appKey: gaugeKey(gauge) },
          UpdateExpression: `SET #quota = :quota, #place = :place, #count = :count, #version = :next${live.size > 0 ? ', #members = :members' : ' REMOVE #members'}`,
          ConditionExpression: version === undefined ? 'attribute_not_exists(#version)' : '#version = :version',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':quota': gauge.quota,
            ':place': gauge.place,
            ':count': live.size,
            ':next': (version ?? 0) + 1,
            ...(live.size > 0 ? { ':members': live } : {}),
            ...(version === undefined ? {} : { ':version': version }),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { reconciled: false };
    }
    return { reconciled: true, used: live.size, added, removed };
  }

  /**
   * One conditional change of the gauge; answers its new count. `UPDATED_NEW` also returns the set, and
   * returning values consumes no read capacity (DynamoDB UpdateItem `ReturnValues`).
   */
  private async change(
    gauge: Gauge,
    expression: Pick<UpdateCommand['input'], 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>,
  ): Promise<CapacityLevel> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { appKey: gaugeKey(gauge) },
        ...expression,
        ExpressionAttributeNames: this.namesIn(expression),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { used: Number(Attributes?.count ?? 0), limit: gauge.limit };
  }

  /** DynamoDB refuses an expression attribute name that no expression uses. */
  private namesIn(expression: Pick<UpdateCommand['input'], 'UpdateExpression' | 'ConditionExpression'>) {
    const text = `${expression.UpdateExpression} ${expression.ConditionExpression ?? ''}`;
    return Object.fromEntries(Object.entries(names).filter(([placeholder]) => text.includes(placeholder)));
  }
}
