/**
 * The activation loop end to end over the real local stand-ins: POST /users → DynamoDB
 * stream → stream poller → trigger handler → local Step Functions running the real
 * .asl.json → send-activation-mail handler → local SES inbox → the link → GET page →
 * POST → DONE → sign-in. Plus the faults that must still give one mail per registration.
 */
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import request from 'supertest';
import type { Server } from 'node:http';
import { createUserTableTriggerHandler } from '../../lambdas/user-table-trigger/user-table-trigger.handler';
import { USER_TABLE_TRIGGER_STREAM_SETTINGS } from '../../lambdas/stream-settings';
import { lambdaEnvironment } from '../../src/workers/activation-pipeline';
import { createDynamoDbClient, createDynamoDbStreamsClient } from '../../src/platform/aws/clients';
import { StreamPoller } from '../../src/workers/stream-poller';
import { newRegistration, type Registration } from '../api/api-helpers';
import { activationLinkIn, type PipelineHarness, startPipelineHarness } from './pipeline-harness';

describe('activation pipeline, end to end (local stand-ins)', () => {
  let system: PipelineHarness;
  let http: Server;

  beforeAll(async () => {
    // Retry waits shortened but not zero: a losing execution must outwait the winner
    // (six in-progress retries, 3 s in all, even on a loaded CI machine).
    system = await startPipelineHarness({ retryIntervalOverrides: 500 });
    http = system.app.getHttpServer() as Server;
  });

  afterAll(async () => {
    await system?.close();
  });

  async function register(overrides: Partial<Registration> = {}): Promise<Registration> {
    const registration = newRegistration(overrides);
    const response = await request(http).post('/users').send(registration);
    expect(response.status).toBe(201);
    return registration;
  }

  const statusOf = async (username: string) =>
    (await system.tables.users.findByUsername(username))?.activationStatus;

  it('mails a new user a link that activates the account, after which sign-in works', async () => {
    // Arrange
    const user = await register();

    // Act
    const mail = await system.waitForMail(user.email);
    // The mail is in the inbox a moment before MAIL_SENT is written: let the execution end.
    await system.stack.pipeline.settled();
    const link = activationLinkIn(mail);
    const page = await request(http).get(`${link.pathname}${link.search}`);
    const statusAfterGet = await statusOf(user.username);
    const activation = await request(http)
      .post('/activate')
      .type('form')
      .send({
        username: link.searchParams.get('username'),
        token: link.searchParams.get('token'),
        password: user.password,
      });
    const login = await request(http)
      .post('/login')
      .send({ username: user.username, password: user.password });

    // Assert
    expect(mail.subject).toBe('Activate your Digital Card Store account');
    expect(mail.from).toBe(system.config.activation.fromAddress);
    expect(`${link.origin}${link.pathname}`).toBe(system.config.http.activationUrlBase);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Activate my account');
    expect(statusAfterGet).toBe('MAIL_SENT');
    expect(activation.status).toBe(200);
    expect(activation.text).toContain('Your account is active');
    expect(await statusOf(user.username)).toBe('DONE');
    expect(login.status).toBe(200);
  });

  it('mails an internationalised address at its ASCII form, the address as delivered', async () => {
    const registration = newRegistration();
    const email = `${registration.username}@b\u00fccher.example`;
    await register({ ...registration, email });

    const mail = await system.waitForMail(`${registration.username}@xn--bcher-kva.example`);

    expect(mail.destination.to).toEqual([`${registration.username}@xn--bcher-kva.example`]);
  });

  it('shows the execution and the states it went through on the Step Functions API', async () => {
    // Arrange
    const user = await register();
    await system.waitForMail(user.email);
    await system.stack.pipeline.settled();

    // Act
    const { executions = [] } = await system.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: system.stack.pipeline.stateMachineArn }),
    );
    const execution = executions.find((e) => e.name?.startsWith(`${user.username}-`));
    const { events = [] } = await system.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: execution!.executionArn! }),
    );

    // Assert
    expect(execution?.status).toBe('SUCCEEDED');
    const entered = events
      .map((event) => event.stateEnteredEventDetails?.name)
      .filter((name) => name !== undefined);
    expect(entered).toEqual([
      'GetActivationStatus',
      'CheckActivationStatus',
      'SendActivationMail',
      'CheckMailWentOut',
      'RecordMailSent',
      'MailSent',
    ]);
    const succeeded = events.find((event) => event.type === 'ExecutionSucceeded');
    expect(JSON.parse(succeeded!.executionSucceededEventDetails!.output!)).toMatchObject({
      username: user.username,
      activationStatus: 'NONE',
      sendResult: { result: 'OK' },
      recordResult: { result: 'RECORDED' },
    });
  });

  it('sends one mail when the stream delivers every record a second time', async () => {
    // Arrange: a user already mailed, then a second poller with no checkpoint, which
    // reads the whole stream again from TRIM_HORIZON, as a replaying mapping would.
    const user = await register();
    await system.waitForMail(user.email);
    await system.stack.pipeline.settled();
    const config = system.config;
    const dynamodb = createDynamoDbClient(config.dynamodb);
    const streams = createDynamoDbStreamsClient(config.dynamodb);
    const outcomes: string[] = [];
    const replay = await StreamPoller.start({
      dynamodb,
      streams,
      tableName: config.dynamodb.tables.users,
      region: config.dynamodb.region,
      settings: USER_TABLE_TRIGGER_STREAM_SETTINGS,
      handler: createUserTableTriggerHandler(
        lambdaEnvironment(
          config,
          { sfn: system.stack.pipeline.stepFunctions!.endpoint },
          system.stack.pipeline.stateMachineArn,
        ),
        {
          log: (entry) => entry.username === user.username && outcomes.push(String(entry.outcome)),
        },
      ),
    });

    // Act
    try {
      await replay.drained();
    } finally {
      await replay.stop();
      dynamodb.destroy();
      streams.destroy();
    }
    await system.stack.pipeline.settled();

    // Assert
    expect(outcomes).toEqual(['ALREADY_STARTED']);
    expect(await system.mailsTo(user.email)).toHaveLength(1);
  });

  it('sends one mail when three executions race for one user', async () => {
    // Arrange: the pipeline starts one execution for the registration; two more start
    // at the same moment under other names.
    const user = await register();
    const start = (name: string) =>
      system.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: system.stack.pipeline.stateMachineArn,
          name,
          input: JSON.stringify({ username: user.username }),
        }),
      );

    // Act
    await Promise.all([start(`${user.username}-race-1`), start(`${user.username}-race-2`)]);
    await system.waitForMail(user.email);
    await system.stack.pipeline.settled();

    // Assert
    expect(await system.mailsTo(user.email)).toHaveLength(1);
    expect(await statusOf(user.username)).toBe('MAIL_SENT');
    const { executions = [] } = await system.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: system.stack.pipeline.stateMachineArn }),
    );
    const mine = executions.filter((e) => e.name?.startsWith(`${user.username}-`));
    expect(mine.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  });

  it('escapes a name full of markup in the mail and keeps the link intact', async () => {
    // Arrange
    const name = '<img src=x onerror=alert(1)>';
    const user = await register({ name });

    // Act
    const mail = await system.waitForMail(user.email);
    // The mail is in the inbox a moment before MAIL_SENT is written: let the execution end.
    await system.stack.pipeline.settled();
    const link = activationLinkIn(mail);
    const page = await request(http).get(`${link.pathname}${link.search}`);

    // Assert
    expect(mail.body.html).toContain('Dear &lt;img src=x onerror=alert(1)&gt;,');
    expect(mail.body.html).not.toContain(name);
    expect(mail.body.text).toContain(`Dear ${name},`);
    expect(link.searchParams.get('username')).toBe(user.username);
    expect(page.text).not.toContain(name);
  });
});
