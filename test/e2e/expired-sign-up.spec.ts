/**
 * An abandoned sign-up, end to end over the real pipeline: once it has expired, a new
 * registration of its username gets its own activation mail (the new user overwrites
 * the old item: a MODIFY on the stream, whose new mail request starts the mail), and that
 * link activates with the new password. One mail per registration. A 2 s PENDING_ACCOUNT_TTL_SECONDS.
 */
import type { Server } from 'node:http';
import request from 'supertest';
import { newRegistration } from '../api/api-helpers';
import { activationLinkIn, type PipelineHarness, startPipelineHarness } from './pipeline-harness';

const PENDING_TTL_SECONDS = 2;

describe('an expired sign-up, through the pipeline', () => {
  let system: PipelineHarness;
  let http: Server;

  beforeAll(async () => {
    system = await startPipelineHarness({
      env: { PENDING_ACCOUNT_TTL_SECONDS: String(PENDING_TTL_SECONDS) },
    });
    http = system.app.getHttpServer() as Server;
  });

  afterAll(async () => {
    await system?.close();
  });

  it('mails the one who takes over its username, whose link then activates', async () => {
    const abandoned = newRegistration();
    const next = { ...newRegistration(), username: abandoned.username };
    expect((await request(http).post('/users').send(abandoned)).status).toBe(201);
    await system.waitForMail(abandoned.email);
    await new Promise((resolve) => setTimeout(resolve, PENDING_TTL_SECONDS * 1000 + 1100));

    const takeover = await request(http).post('/users').send(next);
    const mail = await system.waitForMail(next.email);
    await system.stack.pipeline.settled();
    const link = activationLinkIn(mail);
    const activation = await request(http)
      .post('/activate')
      .set('Accept', 'application/json')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password: next.password,
      });

    expect(takeover.status).toBe(201);
    expect(activation.status).toBe(200);
    expect(await system.mailsTo(abandoned.email)).toHaveLength(1);
    expect(await system.mailsTo(next.email)).toHaveLength(1);
    expect(await system.tables.users.findByUsername(abandoned.username)).toMatchObject({
      email: next.email,
      activationStatus: 'DONE',
    });
  });
});
