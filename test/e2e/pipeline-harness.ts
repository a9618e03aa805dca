/**
 * The whole local system in-process, as `npm start` wires it, over this run's DynamoDB
 * Local: fresh tables, the stream poller, the local Step Functions endpoint running the
 * real .asl.json with the real handlers, the local SES, and the API listening on a
 * loopback port whose address is the link base in the mails.
 */
import 'reflect-metadata';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../src/app.setup';
import { checkAnswers } from '../support/openapi-contract';
import type { AppConfig } from '../../src/config/app-config';
import { LOCAL_CREDENTIALS } from '../../src/platform/aws/clients';
import type { StoredMail } from '../../src/workers/local-ses';
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../src/workers/local-stack';
import { distinctFreePorts } from '../support/ports';
import { testConfig, TestTables } from '../support/test-app';

export interface PipelineHarness {
  readonly config: AppConfig;
  readonly stack: LocalStack;
  readonly app: NestExpressApplication;
  /** http://127.0.0.1:PORT, also PUBLIC_BASE_URL. */
  readonly origin: string;
  readonly tables: TestTables;
  /** The real SDK client on the local Step Functions endpoint. */
  readonly sfn: SFNClient;
  /** Mails to this address in the local inbox, oldest first. */
  mailsTo(address: string): Promise<StoredMail[]>;
  /** Polls the inbox until a mail to this address arrives. */
  waitForMail(address: string, timeoutMs?: number): Promise<StoredMail>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPipelineHarness(
  options: Pick<LocalStackOptions, 'retryIntervalOverrides'> & { env?: NodeJS.ProcessEnv } = {},
): Promise<PipelineHarness> {
  const [apiPort, sfnPort, sesPort] = await distinctFreePorts(3);
  const origin = `http://127.0.0.1:${apiPort}`;
  const config = testConfig({
    PUBLIC_BASE_URL: origin,
    SFN_LOCAL_PORT: String(sfnPort),
    SES_LOCAL_PORT: String(sesPort),
    ...options.env,
  });
  const stack = await startLocalStack(config, {
    inMemory: true,
    pollIntervalMs: 50,
    retryIntervalOverrides: options.retryIntervalOverrides ?? 0,
  });
  const app = checkAnswers(await createApp(stack.config));
  await app.listen(apiPort, '127.0.0.1');
  const tables = new TestTables(stack.config);
  const sfn = new SFNClient({
    region: config.dynamodb.region,
    endpoint: stack.pipeline.stepFunctions!.endpoint,
    credentials: LOCAL_CREDENTIALS,
  });
  const ses = stack.pipeline.ses!;

  return {
    config: stack.config,
    stack,
    app,
    origin,
    tables,
    sfn,
    mailsTo: (address) => ses.mailsTo(address),
    async waitForMail(address, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [mail] = await ses.mailsTo(address);
        if (mail) return mail;
        if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    async close() {
      sfn.destroy();
      await app.close();
      await stack.stop();
      await tables.drop();
    },
  };
}

/** The activation link in a mail's text part. */
/** The password-reset link in a reset mail's text part. */
export function passwordResetLinkIn(mail: StoredMail): URL {
  const match = /https?:\/\/\S+\/password-reset\/new\?\S+/.exec(mail.body.text ?? '');
  if (!match) throw new Error(`no password-reset link in mail ${mail.messageId}`);
  return new URL(match[0]);
}

export function activationLinkIn(mail: StoredMail): URL {
  const match = /https?:\/\/\S+\/activate\?\S+/.exec(mail.body.text ?? '');
  if (!match) throw new Error(`no activation link in mail ${mail.messageId}`);
  return new URL(match[0]);
}
