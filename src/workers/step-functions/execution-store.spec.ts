import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { gate, startToy, TOY_NAME, toyScript } from './testing/toy-state-machine';

describe('LocalStepFunctions with a data folder', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'card-store-sfn-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows past executions after a restart and runs interrupted ones again', async () => {
    const firstScript = toyScript();
    const first = await startToy(firstScript, { dataDir, stopGraceMs: 50 });
    const done = await first.client.send(
      new StartExecutionCommand({
        stateMachineArn: first.toyArn,
        name: 'finished',
        input: '{"name":"Ada"}',
      }),
    );
    await first.service.idle();
    const held = gate();
    firstScript.greet = async () => {
      await held.wait();
      return 'never recorded';
    };
    const interrupted = await first.client.send(
      new StartExecutionCommand({
        stateMachineArn: first.toyArn,
        name: 'interrupted',
        input: '{"name":"Bob"}',
      }),
    );
    first.client.destroy();
    await first.service.stop(); // "interrupted" is still waiting: left RUNNING on disk
    held.release();

    const files = await readdir(join(dataDir, 'executions', TOY_NAME));
    expect(files.sort()).toEqual(['finished.json', 'interrupted.json']);
    const saved = JSON.parse(
      await readFile(join(dataDir, 'executions', TOY_NAME, 'interrupted.json'), 'utf8'),
    );
    expect(saved.status).toBe('RUNNING');

    const second = await startToy(toyScript(), { dataDir });
    try {
      await second.service.idle();
      const listed = await second.client.send(
        new ListExecutionsCommand({ stateMachineArn: second.toyArn }),
      );
      expect(listed.executions!.map((e) => [e.name, e.status]).sort()).toEqual([
        ['finished', 'SUCCEEDED'],
        ['interrupted', 'SUCCEEDED'],
      ]);
      const rerun = await second.client.send(
        new DescribeExecutionCommand({ executionArn: interrupted.executionArn }),
      );
      expect(JSON.parse(rerun.output!).greeting).toBe('Hello Bob');
      expect(rerun.startDate?.getTime()).toBe(interrupted.startDate?.getTime());

      const history = await second.client.send(
        new GetExecutionHistoryCommand({ executionArn: done.executionArn }),
      );
      expect(history.events!.map((e) => e.type)).toContain('ExecutionSucceeded');
      expect(history.events![0].timestamp).toBeInstanceOf(Date);

      // Names stay taken across restarts, as on AWS.
      await expect(
        second.client.send(
          new StartExecutionCommand({ stateMachineArn: second.toyArn, name: 'finished' }),
        ),
      ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    } finally {
      second.client.destroy();
      await second.service.stop();
    }
    const leftovers = await readdir(join(dataDir, 'executions', TOY_NAME));
    expect(leftovers.filter((file) => file.endsWith('.tmp'))).toEqual([]);
  });

  it('has an execution on disk by the time StartExecution answers', async () => {
    // The stream poller checkpoints a record once its execution has started; an
    // execution that a crash could still lose after the answer would never run.
    const script = toyScript();
    const held = gate();
    script.greet = async () => {
      await held.wait();
      return 'hello';
    };
    const toy = await startToy(script, { dataDir });
    try {
      await toy.client.send(
        new StartExecutionCommand({
          stateMachineArn: toy.toyArn,
          name: 'durable',
          input: '{"name":"Eve"}',
        }),
      );

      const saved = JSON.parse(
        await readFile(join(dataDir, 'executions', TOY_NAME, 'durable.json'), 'utf8'),
      );

      expect(saved).toMatchObject({ name: 'durable', status: 'RUNNING' });
    } finally {
      held.release();
      toy.client.destroy();
      await toy.service.stop();
    }
  });

  it('skips an unreadable execution file instead of refusing to start', async () => {
    const warnings: string[] = [];
    const first = await startToy(toyScript(), { dataDir });
    await first.client.send(
      new StartExecutionCommand({ stateMachineArn: first.toyArn, name: 'kept' }),
    );
    await first.service.idle();
    first.client.destroy();
    await first.service.stop();
    await writeFile(join(dataDir, 'executions', TOY_NAME, 'broken.json'), '{"half":');

    const second = await startToy(toyScript(), {
      dataDir,
      logger: { info: () => {}, error: () => {}, warn: (_obj, msg) => warnings.push(msg ?? '') },
    });
    try {
      const listed = await second.client.send(
        new ListExecutionsCommand({ stateMachineArn: second.toyArn }),
      );
      expect(listed.executions!.map((e) => e.name)).toEqual(['kept']);
      expect(warnings).toEqual([expect.stringContaining('unreadable execution file')]);
    } finally {
      second.client.destroy();
      await second.service.stop();
    }
  });

  it('keeps only the newest executions, on disk too', async () => {
    const { service, client, toyArn } = await startToy(toyScript(), { dataDir, maxExecutions: 3 });
    try {
      for (let index = 0; index < 5; index++) {
        await client.send(
          new StartExecutionCommand({ stateMachineArn: toyArn, name: `n${index}` }),
        );
        await service.idle();
      }
      const listed = await client.send(new ListExecutionsCommand({ stateMachineArn: toyArn }));
      expect(listed.executions!.map((e) => e.name)).toEqual(['n4', 'n3', 'n2']);
    } finally {
      client.destroy();
      await service.stop();
    }
    expect((await readdir(join(dataDir, 'executions', TOY_NAME))).sort()).toEqual([
      'n2.json',
      'n3.json',
      'n4.json',
    ]);
  });
});
