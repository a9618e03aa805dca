/**
 * The tables behind the user service, in one place: created by the local launcher and by
 * the tests; the CDK stack (infra/card-store-stack.ts) declares the same keys.
 *
 * - User: one item per user, key `username`; its stream (NEW_IMAGE) drives activation mail.
 * - UserEmail: one item per email key (lower-cased address), key `email`; written in the
 *   same transaction as the user, which is what makes email addresses unique.
 * - UserSession: one item per sign-in under its account, key `username` + `sessionIdHash`
 *   (SHA-256 of the cookie's secret, so a leaked table does not leak sessions), so that an
 *   account's sessions are found with one strongly consistent Query; plus, once the
 *   account's sessions were ended, one marker item (`sessionIdHash` = `#ended`): a session
 *   of an earlier generation than the marker's is over. Expired sessions are removed by TTL.
 * - RateLimit: one counter per rate limit and key, key `limitKey` (a SHA-256, so the table
 *   holds no address or username); expired counters are removed by TTL.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { TableNames } from '../../config/app-config';

export const USER_KEY = 'username';
export const USER_EMAIL_KEY = 'email';
/** The session table's partition key: the account's username. */
export const SESSION_ACCOUNT_KEY = 'username';
/** The session table's sort key: SHA-256 (hex) of the cookie's token, or SESSIONS_ENDED. */
export const SESSION_KEY = 'sessionIdHash';
export const SESSION_TTL_ATTRIBUTE = 'expiresAt';
/**
 * The sort key of an account's marker: its `generation` counts how often every session of
 * the account was ended (absent: 0), `endedAt` says when last (epoch ms). A session is
 * live only while the generation it was started in is the marker's.
 */
export const SESSIONS_ENDED = '#ended';
/** The marker's counter, and the generation a session item was started in. */
export const SESSION_GENERATION = 'generation';

/** The key of `username`'s marker item in the session table. */
export const sessionsMarkerKey = (username: string) => ({
  [SESSION_ACCOUNT_KEY]: username,
  [SESSION_KEY]: SESSIONS_ENDED,
});

/**
 * The update of `username`'s marker that ends every session of the account: the next
 * generation. Made by sign-out everywhere and, in the same transaction, by a password
 * change. Because a new session's transaction checks the generation it read, a sign-in
 * racing it either lands before it (and is ended by it) or is refused and tried again:
 * whatever the instances' clocks say. The marker has no expiry: one small item per account
 * that ever used it.
 */
export function endSessionsUpdate(username: string, now: Date) {
  return {
    Key: sessionsMarkerKey(username),
    UpdateExpression: 'ADD #generation :one SET endedAt = :endedAt',
    ExpressionAttributeNames: { '#generation': SESSION_GENERATION },
    ExpressionAttributeValues: { ':one': 1, ':endedAt': now.getTime() },
  };
}
/** On User and UserEmail items of a pending account: when it is gone (epoch seconds). */
export const PENDING_ACCOUNT_TTL_ATTRIBUTE = 'expiresAt';
export const RATE_LIMIT_KEY = 'limitKey';
export const RATE_LIMIT_TTL_ATTRIBUTE = 'expiresAt';

export interface TableDefinition {
  readonly create: CreateTableCommandInput;
  /** Attribute holding an epoch-seconds expiry, for DynamoDB's TTL. */
  readonly ttlAttribute?: string;
  /**
   * Holds nothing that must outlive a change of its keys (sessions: the cost is one more
   * sign-in): the local launcher creates it anew when its key schema changed.
   */
  readonly disposable?: boolean;
}

function keyedTable(name: string, key: string): CreateTableCommandInput {
  return {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

export function userTableDefinitions(tables: TableNames): TableDefinition[] {
  return [
    {
      create: {
        ...keyedTable(tables.users, USER_KEY),
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      },
      ttlAttribute: PENDING_ACCOUNT_TTL_ATTRIBUTE,
    },
    {
      create: keyedTable(tables.userEmails, USER_EMAIL_KEY),
      ttlAttribute: PENDING_ACCOUNT_TTL_ATTRIBUTE,
    },
    {
      create: {
        TableName: tables.sessions,
        AttributeDefinitions: [
          { AttributeName: SESSION_ACCOUNT_KEY, AttributeType: 'S' },
          { AttributeName: SESSION_KEY, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: SESSION_ACCOUNT_KEY, KeyType: 'HASH' },
          { AttributeName: SESSION_KEY, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      },
      ttlAttribute: SESSION_TTL_ATTRIBUTE,
      disposable: true,
    },
    {
      create: keyedTable(tables.rateLimits, RATE_LIMIT_KEY),
      ttlAttribute: RATE_LIMIT_TTL_ATTRIBUTE,
    },
  ];
}
