/**
 * Small helpers shared by the API tests: unique registrations, raw DynamoDB reads and the
 * one error shape of the API.
 */
import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import request, { type Response } from 'supertest';
import { normaliseUsername } from '../../src/activation';
import {
  activateDirectly,
  type ClaimedToken,
  claimTokenDirectly,
} from '../../src/activation/testing/activate-directly';
import { USER_EMAIL_KEY, USER_KEY } from '../../src/users/persistence/user-tables';
import type { TestApp } from '../support/test-app';

export interface Registration {
  username: string;
  email: string;
  name: string;
  password: string;
}

/** A valid registration with a username and email that no other test uses. */
export function newRegistration(overrides: Partial<Registration> = {}): Registration {
  const id = randomBytes(5).toString('hex');
  return {
    username: `user-${id}`,
    email: `user-${id}@example.org`,
    name: 'Ada Lovelace',
    password: 'correct horse battery staple',
    ...overrides,
  };
}

export function register(api: TestApp, body: unknown): Promise<Response> {
  return request(api.http)
    .post('/users')
    .send(body as object);
}

/** Registers and fails the test unless the API answers 201. */
export async function registered(
  api: TestApp,
  overrides: Partial<Registration> = {},
): Promise<Registration> {
  const registration = newRegistration(overrides);
  const response = await register(api, registration);
  expect(response.status).toBe(201);
  return registration;
}

/** Registers and sets the status to DONE, as the activation link would. */
export async function activatedUser(
  api: TestApp,
  overrides: Partial<Registration> = {},
): Promise<Registration> {
  const registration = await registered(api, overrides);
  await activateDirectly(api.tables.users, normaliseUsername(registration.username));
  return registration;
}

async function item(
  api: TestApp,
  table: keyof TestApp['config']['dynamodb']['tables'],
  key: Record<string, string>,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await api.tables.documentClient.send(
    new GetCommand({
      TableName: api.config.dynamodb.tables[table],
      Key: key,
      ConsistentRead: true,
    }),
  );
  return Item;
}

export const userItem = (api: TestApp, username: string) =>
  item(api, 'users', { [USER_KEY]: username });

export const userEmailItem = (api: TestApp, emailKey: string) =>
  item(api, 'userEmails', { [USER_EMAIL_KEY]: emailKey });

export async function allItems(
  api: TestApp,
  table: keyof TestApp['config']['dynamodb']['tables'],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await api.tables.documentClient.send(
      new ScanCommand({
        TableName: api.config.dynamodb.tables[table],
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const ERROR_KEYS = ['statusCode', 'error', 'code', 'message', 'errors', 'requestId'];

/** The API's one error shape, with the given status and code. */
export function expectApiError(response: Response, status: number, code: string): void {
  expect({ status: response.status, code: (response.body as { code?: unknown }).code }).toEqual({
    status,
    code,
  });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.body).toEqual(
    expect.objectContaining({
      statusCode: status,
      error: STATUS_CODES[status],
      message: expect.any(String),
      requestId: response.headers['x-request-id'],
    }),
  );
  expect(ERROR_KEYS).toEqual(expect.arrayContaining(Object.keys(response.body as object)));
}

/** A 400 VALIDATION_FAILED whose field errors are exactly for `fields` (in any order). */
export function expectFieldErrors(response: Response, fields: string[]): void {
  expectApiError(response, 400, 'VALIDATION_FAILED');
  const errors =
    (response.body as { errors?: { field: string; messages: string[] }[] }).errors ?? [];
  expect(errors.map((error) => error.field).sort()).toEqual([...fields].sort());
  for (const error of errors)
    expect(error.messages).toEqual([expect.stringContaining(error.field)]);
}

/** The value of a cookie set by the response, or undefined. */
export function setCookie(
  response: Response,
  name: string,
): { value: string; attributes: string[] } | undefined {
  const header = response.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = header?.find((line) => line.startsWith(`${name}=`));
  if (!cookie) return undefined;
  const [pair, ...attributes] = cookie.split(';').map((part) => part.trim());
  return { value: pair!.slice(name.length + 1), attributes };
}

export const SESSION_COOKIE = 'card_store_session';

/**
 * Gives a NONE user a live activation token through the store's own conditional writes,
 * as the mail step does (without the mail): a claim that stores the token's hash, then,
 * unless `markSent` is false, the status MAIL_SENT. A claim left unsent ends its lease
 * at once, so a second claim can replace the token, as a new mail would.
 */
export async function claimActivationToken(
  api: TestApp,
  username: string,
  options: { tokenExpiresAt?: Date; markSent?: boolean } = {},
): Promise<ClaimedToken> {
  const now = new Date();
  const claimed = await claimTokenDirectly(api.tables.users, username, {
    now,
    tokenExpiresAt: options.tokenExpiresAt ?? new Date(now.getTime() + 3600_000),
    leaseExpiresAt: now,
  });
  if (options.markSent !== false) {
    const sent = await api.tables.users.markMailSent(username, claimed.claimId, now.toISOString());
    if (!sent) throw new Error(`cannot mark the mail to '${username}' sent`);
  }
  return claimed;
}

/** Registers a user and gives them a live token, as if the activation mail had gone out. */
export async function mailedUser(
  api: TestApp,
  overrides: Partial<Registration> = {},
  options: { tokenExpiresAt?: Date; markSent?: boolean } = {},
): Promise<Registration & { token: string }> {
  const registration = await registered(api, overrides);
  const username = normaliseUsername(registration.username);
  const { token } = await claimActivationToken(api, username, options);
  return { ...registration, username, token };
}
