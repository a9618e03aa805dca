/**
 * The tables behind the user service, in one place: created by the local launcher and by
 * the tests, and (later) mirrored by the CDK stack.
 *
 * - User: one item per user, key `username`; its stream (NEW_IMAGE) drives activation mail.
 * - UserEmail: one item per email key (lower-cased address), key `email`; written in the
 *   same transaction as the user, which is what makes email addresses unique.
 * - UserSession: one item per sign-in, key `sessionIdHash` (SHA-256 of the cookie's token,
 *   so a leaked table does not leak sessions); expired items are removed by TTL.
 * - RateLimit: one counter per rate limit and key, key `limitKey` (a SHA-256, so the table
 *   holds no address or username); expired counters are removed by TTL.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { TableNames } from '../../config/app-config';

export const USER_KEY = 'username';
export const USER_EMAIL_KEY = 'email';
export const SESSION_KEY = 'sessionIdHash';
export const SESSION_TTL_ATTRIBUTE = 'expiresAt';
/** On User and UserEmail items of a pending account: when it is gone (epoch seconds). */
export const PENDING_ACCOUNT_TTL_ATTRIBUTE = 'expiresAt';
export const RATE_LIMIT_KEY = 'limitKey';
export const RATE_LIMIT_TTL_ATTRIBUTE = 'expiresAt';

export interface TableDefinition {
  readonly create: CreateTableCommandInput;
  /** Attribute holding an epoch-seconds expiry, for DynamoDB's TTL. */
  readonly ttlAttribute?: string;
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
    { create: keyedTable(tables.sessions, SESSION_KEY), ttlAttribute: SESSION_TTL_ATTRIBUTE },
    {
      create: keyedTable(tables.rateLimits, RATE_LIMIT_KEY),
      ttlAttribute: RATE_LIMIT_TTL_ATTRIBUTE,
    },
  ];
}
