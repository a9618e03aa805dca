/**
 * The shared per-identifier mail budget (`mail-cooldown`, `mail-daily`) that resend and
 * password reset will declare, on a route of this test's own over DynamoDB Local: keyed
 * by the identifier as typed and normalised, never by whether an account has it.
 */
import 'reflect-metadata';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Controller, Global, HttpCode, Module, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TestTables, testConfig } from '../../../test/support/test-app';
import { APP_CONFIG } from '../../config/app-config';
import { ApiErrorsFilter } from '../api-errors.filter';
import { RateLimited } from './rate-limited.decorator';
import { RateLimitsModule } from './rate-limits.module';

@Controller()
class MailRequestController {
  @Post('mail')
  @HttpCode(202)
  @RateLimited('mail-cooldown', 'mail-daily')
  ask(): Record<string, never> {
    return {};
  }
}

async function appOver(tables: TestTables): Promise<INestApplication> {
  @Global()
  @Module({
    providers: [
      { provide: APP_CONFIG, useValue: tables.config },
      { provide: DynamoDBDocumentClient, useValue: tables.documentClient },
    ],
    exports: [APP_CONFIG, DynamoDBDocumentClient],
  })
  class TestCoreModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [TestCoreModule, RateLimitsModule],
    controllers: [MailRequestController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new ApiErrorsFilter());
  await app.init();
  return app;
}

describe('the mail budget (per identifier)', () => {
  let tables: TestTables;
  let app: INestApplication;
  const ask = (body: object) =>
    request(app.getHttpServer() as Parameters<typeof request>[0])
      .post('/mail')
      .send(body);

  beforeAll(async () => {
    tables = await new TestTables(
      testConfig({
        RATE_LIMIT_SCALE: '1',
        RATE_LIMIT_MAIL_COOLDOWN: '1/1m',
        RATE_LIMIT_MAIL_PER_DAY: '3/1d',
      }),
    ).create();
    app = await appOver(tables);
  });

  afterAll(async () => {
    await app.close();
    await tables.drop();
  });

  it('refuses a second mail within the cooldown, for any spelling of the same mailbox', async () => {
    const first = await ask({ email: 'Ann@Bücher.example' });
    const again = await ask({ email: ' ann@xn--bcher-kva.example' });

    expect(first.status).toBe(202);
    expect(again.status).toBe(429);
    expect(again.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(String(again.headers.ratelimit)).toMatch(/"mail-cooldown";r=0;t=(59|60)/);
    expect(Number(again.headers['retry-after'])).toBeGreaterThanOrEqual(59);
  });

  it('keys a username by its normalised form too', async () => {
    expect((await ask({ username: 'Grace.H' })).status).toBe(202);
    expect((await ask({ username: 'grace.h ' })).status).toBe(429);
  });

  it('gives each identifier a budget of its own, from what was typed alone', async () => {
    // The budget reads no user table (this app has none): a 429 cannot tell an address
    // with an account from one without.
    const answers = [];
    for (const email of ['known@example.org', 'unknown@example.org']) {
      const statuses = [(await ask({ email })).status, (await ask({ email })).status];
      answers.push(statuses);
    }

    expect(answers).toEqual([
      [202, 429],
      [202, 429],
    ]);
  });

  it('caps the mails of one identifier per day, across cooldowns', async () => {
    const dayTables = await new TestTables(
      testConfig({
        RATE_LIMIT_SCALE: '1',
        RATE_LIMIT_MAIL_COOLDOWN: '100/1m',
        RATE_LIMIT_MAIL_PER_DAY: '3/1d',
      }),
    ).create();
    const dayApp = await appOver(dayTables);
    try {
      const server = dayApp.getHttpServer() as Parameters<typeof request>[0];
      const statuses: number[] = [];
      let last: request.Response | undefined;
      for (let i = 0; i < 4; i += 1) {
        last = await request(server).post('/mail').send({ email: 'daily@example.org' });
        statuses.push(last.status);
      }

      expect(statuses).toEqual([202, 202, 202, 429]);
      expect(String(last?.headers.ratelimit)).toContain('"mail-daily";r=0;t=');
      expect(Number(last?.headers['retry-after'])).toBeGreaterThan(86_000);
    } finally {
      await dayApp.close();
      await dayTables.drop();
    }
  });
});
