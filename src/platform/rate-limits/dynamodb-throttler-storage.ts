/**
 * @nestjs/throttler's storage over a DynamoDB table, so a limit holds across every
 * instance of the API (on AWS, every Lambda container). One item per counter:
 *
 *   limitKey      the throttler's key (a SHA-256 of the limit's name and its tracker)
 *   hits          requests counted in the current window
 *   windowEndsAt  epoch ms when the window ends and the count starts again
 *   lockedUntil   epoch ms until which the key is refused (set when it went over)
 *   expiresAt     epoch seconds: DynamoDB's TTL removes the item some time after
 *
 * A request is one atomic `UpdateItem` (ADD 1, condition: the window still runs or the
 * key is locked). Two more writes happen only when they must: the first request after a
 * window starts it again (conditional, so that two instances cannot both restart it),
 * and the request that goes over the limit locks the key. Concurrent requests never pass
 * more than `limit` per window: DynamoDB serialises the counter. What a fixed window
 * allows is up to 2 × limit across a window's boundary.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { RATE_LIMIT_KEY } from '../../users/persistence/user-tables';

/** Counters stay this long after their window or lock ends (TTL deletes lazily anyway). */
const EXPIRY_GRACE_SECONDS = 60;

/** A window restart lost to another instance is retried this often before giving up. */
const MAX_ROUNDS = 3;

/** What the guard needs of a counter (@nestjs/throttler does not export the type). */
export type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface CounterItem {
  readonly hits: number;
  readonly windowEndsAt: number;
  readonly lockedUntil?: number;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
const expiry = (untilMs: number) => Math.ceil(untilMs / 1000) + EXPIRY_GRACE_SECONDS;

export class DynamoDbThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request. `ttl` and `blockDuration` are in ms, as the guard passes them. */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    for (let round = 1; ; round += 1) {
      const now = this.now();
      const counted = await this.count(key, now, ttl);
      const item = counted ?? (await this.restartWindow(key, now, ttl));
      if (!item) {
        if (round < MAX_ROUNDS) continue; // another instance restarted it: count again
        throw new Error(`rate limit counter ${key} kept changing under this request`);
      }
      if (item.lockedUntil !== undefined && item.lockedUntil > now) {
        return this.record(item, now, true);
      }
      if (item.hits > limit && blockDuration > 0) {
        return this.record(await this.lock(key, now, blockDuration, item), now, true);
      }
      return this.record(item, now, item.hits > limit);
    }
  }

  private record(item: CounterItem, now: number, isBlocked: boolean): ThrottlerStorageRecord {
    return {
      totalHits: item.hits,
      timeToExpire: seconds(item.windowEndsAt - now),
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds((item.lockedUntil ?? item.windowEndsAt) - now) : 0,
    };
  }

  /** ADD 1 while the window runs (or the key is locked); undefined when it has ended. */
  private count(key: string, now: number, ttl: number): Promise<CounterItem | undefined> {
    return this.update(key, {
      UpdateExpression:
        'ADD hits :one SET windowEndsAt = if_not_exists(windowEndsAt, :end), expiresAt = if_not_exists(expiresAt, :expiresAt)',
      ConditionExpression:
        'attribute_not_exists(windowEndsAt) OR windowEndsAt > :now OR lockedUntil > :now',
      ExpressionAttributeValues: {
        ':one': 1,
        ':now': now,
        ':end': now + ttl,
        ':expiresAt': expiry(now + ttl),
      },
    });
  }

  /** Starts a new window with this request as its first; undefined if another did first. */
  private restartWindow(key: string, now: number, ttl: number): Promise<CounterItem | undefined> {
    return this.update(key, {
      UpdateExpression:
        'SET hits = :one, windowEndsAt = :end, expiresAt = :expiresAt REMOVE lockedUntil',
      ConditionExpression:
        'windowEndsAt <= :now AND (attribute_not_exists(lockedUntil) OR lockedUntil <= :now)',
      ExpressionAttributeValues: {
        ':one': 1,
        ':now': now,
        ':end': now + ttl,
        ':expiresAt': expiry(now + ttl),
      },
    });
  }

  /**
   * Locks the key for `blockDuration`. The window is stretched to the lock's end, so the
   * count starts again only after it. Only the first request over the limit sets it;
   * when another request locked it first, its lock stands.
   */
  private async lock(
    key: string,
    now: number,
    blockDuration: number,
    counted: CounterItem,
  ): Promise<CounterItem> {
    const lockedUntil = Math.max(now + blockDuration, counted.windowEndsAt);
    const locked = await this.update(key, {
      UpdateExpression:
        'SET lockedUntil = :lockedUntil, windowEndsAt = :lockedUntil, expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(lockedUntil) OR lockedUntil <= :now',
      ExpressionAttributeValues: {
        ':now': now,
        ':lockedUntil': lockedUntil,
        ':expiresAt': expiry(lockedUntil),
      },
    });
    return locked ?? { ...counted, lockedUntil };
  }

  /** One conditional UpdateItem of the counter: its new state, or undefined if refused. */
  private async update(
    key: string,
    expression: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
  ): Promise<CounterItem | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [RATE_LIMIT_KEY]: key },
          ...expression,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as CounterItem;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}
