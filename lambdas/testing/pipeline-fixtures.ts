/**
 * Fixtures for the Lambdas' tests: users as the registration API stores them, and the
 * Lambdas' environment over this run's DynamoDB Local and a local SES.
 */
import { randomBytes } from 'node:crypto';
import { ActivationStatus, type NewUserRecord } from '../../src/activation';
import type { TestTables } from '../../test/support/test-app';

export const ACTIVATION_URL_BASE = 'http://cards.test/activate';
export const FROM_ADDRESS = 'Digital Card Store <no-reply@card-store.example>';

/** A user in status NONE with a unique username and address. */
export function newUser(overrides: Partial<NewUserRecord> = {}): NewUserRecord {
  const username = overrides.username ?? `user-${randomBytes(4).toString('hex')}`;
  return {
    username,
    email: `${username}@example.org`,
    name: 'Alice Liddell',
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
    activationStatus: ActivationStatus.NONE,
    activationUrlBase: ACTIVATION_URL_BASE,
    createdAt: '2026-11-20T09:00:00.000Z',
    ...overrides,
  };
}

/** What local mode passes the Lambdas: the AWS variables plus the local endpoints. */
export function lambdaEnv(
  tables: TestTables,
  sesEndpoint: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const { config } = tables;
  return {
    AWS_REGION: config.dynamodb.region,
    DYNAMODB_ENDPOINT: config.dynamodb.endpoint,
    SES_ENDPOINT: sesEndpoint,
    USER_TABLE_NAME: config.dynamodb.tables.users,
    USER_EMAIL_TABLE_NAME: config.dynamodb.tables.userEmails,
    FROM_ADDRESS,
    ACTIVATION_URL_BASES: `${ACTIVATION_URL_BASE},http://localhost:3000/activate`,
    ...overrides,
  };
}
