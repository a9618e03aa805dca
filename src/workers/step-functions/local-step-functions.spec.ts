import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidExecutionInput,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { LocalStepFunctions } from './local-step-functions';
import {
  ACCOUNT,
  gate,
  MailDeliveryError,
  REGION,
  startToy,
  TOY_NAME,
  toyDefinition,
  toyScript,
  type ToyScript,
} from './testing/toy-state-machine';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('LocalStepFunctions through @aws-sdk/client-sfn', () => {
  let script: ToyScript;
  let service: LocalStepFunctions;
  let client: SFNClient;
  let toyArn: string;

  beforeEach(async () => {
    script = toyScript();
    ({ service, client, toyArn } = await startToy(script));
  });

  afterEach(async () => {
    client.destroy();
    await service.stop();
  });

  async function runToEnd(input: object, name?: string) {
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: toyArn, name, input: JSON.stringify(input) }),
    );
    await service.idle();
    return client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
  }

  async function historyOf(executionArn: string | undefined): Promise<HistoryEvent[]> {
    const history = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    return history.events ?? [];
  }

  describe('state machines', () => {
    it('lists and describes the configured state machine with its definition', async () => {
      const listed = await client.send(new ListStateMachinesCommand({}));
      expect(listed.stateMachines).toEqual([
        {
          stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${TOY_NAME}`,
          name: TOY_NAME,
          type: 'STANDARD',
          creationDate: expect.any(Date),
        },
      ]);
      const described = await client.send(
        new DescribeStateMachineCommand({ stateMachineArn: toyArn }),
      );
      expect(described).toMatchObject({
        name: TOY_NAME,
        status: 'ACTIVE',
        type: 'STANDARD',
        roleArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
      });
      expect(JSON.parse(described.definition!)).toEqual(toyDefinition);
    });
  });

  describe('a successful execution', () => {
    it('runs the tasks and reports its output, dates and history', async () => {
      const before = Date.now();
      const described = await runToEnd({ name: 'Ada', vip: true }, 'ada-1');

      expect(described).toMatchObject({
        executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${TOY_NAME}:ada-1`,
        stateMachineArn: toyArn,
        name: 'ada-1',
        status: 'SUCCEEDED',
        input: '{"name":"Ada","vip":true}',
      });
      expect(JSON.parse(described.output!)).toEqual({
        name: 'Ada',
        vip: true,
        greeting: 'Hello Ada',
        delivery: { delivered: true },
      });
      expect(described.startDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
      // lambda:invoke hands the function the Payload parameter only
      expect(script.deliverEvents).toEqual([{ name: 'Ada', vip: true, greeting: 'Hello Ada' }]);

      const events = await historyOf(described.executionArn);
      expect(events.map((e) => e.type)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ChoiceStateEntered',
        'ChoiceStateExited',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
      expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
      expect(events.map((e) => e.previousEventId)).toEqual(events.map((_, i) => i));
      expect(events.every((e) => e.timestamp instanceof Date)).toBe(true);
      expect(events[0].executionStartedEventDetails?.input).toBe('{"name":"Ada","vip":true}');
      expect(events[1].stateEnteredEventDetails).toMatchObject({
        name: 'Greet',
        input: '{"name":"Ada","vip":true}',
      });
      expect(events[2].lambdaFunctionScheduledEventDetails).toMatchObject({
        resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:toy-greet`,
        timeoutInSeconds: 10,
      });
      expect(events[9].taskScheduledEventDetails).toMatchObject({
        resourceType: 'lambda',
        resource: 'invoke',
        region: REGION,
      });
      expect(JSON.parse(events[11].taskSucceededEventDetails!.output!)).toMatchObject({
        Payload: { delivered: true },
        StatusCode: 200,
      });
      expect(events[12].stateExitedEventDetails?.name).toBe('Deliver');
      expect(JSON.parse(events[15].executionSucceededEventDetails!.output!)).toEqual(
        JSON.parse(described.output!),
      );
    });

    it('gives each handler a Lambda-shaped context', async () => {
      await runToEnd({ name: 'Ada' });
      const [context] = script.contexts;
      expect(context).toMatchObject({
        functionName: 'toy-greet',
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:toy-greet`,
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/toy-greet',
        logStreamName: expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/),
        callbackWaitsForEmptyEventLoop: true,
      });
      expect(context.awsRequestId).toMatch(UUID);
      const remaining = context.getRemainingTimeInMillis();
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(10_000);
    });

    it('names an execution with a UUID when StartExecution gives no name', async () => {
      const started = await client.send(new StartExecutionCommand({ stateMachineArn: toyArn }));
      expect(started.executionArn).toMatch(
        new RegExp(`:execution:${TOY_NAME}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-`),
      );
      await service.idle();
      const described = await client.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      expect(described.status).toBe('SUCCEEDED');
      expect(JSON.parse(described.output!)).toEqual({ greeting: 'Hello nobody' });
    });

    it('describes the state machine of an execution', async () => {
      const described = await runToEnd({}, 'for-machine');
      const machine = await client.send(
        new DescribeStateMachineForExecutionCommand({ executionArn: described.executionArn }),
      );
      expect(machine.stateMachineArn).toBe(toyArn);
      expect(JSON.parse(machine.definition!)).toEqual(toyDefinition);
    });
  });

  describe('StartExecution by name (Standard workflow semantics)', () => {
    it('returns the running execution for the same name and input, refuses other input', async () => {
      const held = gate();
      script.greet = async () => {
        await held.wait();
        return 'late hello';
      };
      const request = { stateMachineArn: toyArn, name: 'same-name', input: '{"a":1}' };
      const first = await client.send(new StartExecutionCommand(request));
      const again = await client.send(new StartExecutionCommand(request));
      expect(again.executionArn).toBe(first.executionArn);
      expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

      const other = client.send(new StartExecutionCommand({ ...request, input: '{"a":2}' }));
      await expect(other).rejects.toBeInstanceOf(ExecutionAlreadyExists);

      const running = await client.send(
        new DescribeExecutionCommand({ executionArn: first.executionArn }),
      );
      expect(running.status).toBe('RUNNING');
      expect(running.stopDate).toBeUndefined();

      held.release();
      await service.idle();
      const afterEnd = client.send(new StartExecutionCommand(request));
      await expect(afterEnd).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      await expect(afterEnd).rejects.toMatchObject({
        name: 'ExecutionAlreadyExists',
        message: `Execution Already Exists: '${first.executionArn}'`,
        $metadata: { httpStatusCode: 400 },
      });
      const executions = await client.send(new ListExecutionsCommand({ stateMachineArn: toyArn }));
      expect(executions.executions).toHaveLength(1);
    });

    it.each([
      ['a space', 'has space'],
      ['a slash', 'a/b'],
      ['an empty name', ''],
      ['81 characters', 'x'.repeat(81)],
      ['a non-ASCII letter', 'café'],
    ])('refuses a name with %s (InvalidName)', async (_what, name) => {
      const start = client.send(new StartExecutionCommand({ stateMachineArn: toyArn, name }));
      await expect(start).rejects.toBeInstanceOf(InvalidName);
    });

    it('accepts a name of 80 safe characters', async () => {
      const name = `${'A-z_9'.repeat(16)}`;
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn: toyArn, name }),
      );
      expect(started.executionArn?.endsWith(`:${name}`)).toBe(true);
    });

    it.each([
      ['not JSON', '{name:'],
      ['a JSON array', '[1,2]'],
      ['a JSON string', '"text"'],
      ['over 256 KB', JSON.stringify({ blob: 'x'.repeat(256 * 1024) })],
    ])('refuses input that is %s (InvalidExecutionInput)', async (_what, input) => {
      const start = client.send(new StartExecutionCommand({ stateMachineArn: toyArn, input }));
      await expect(start).rejects.toBeInstanceOf(InvalidExecutionInput);
      const executions = await client.send(new ListExecutionsCommand({ stateMachineArn: toyArn }));
      expect(executions.executions).toEqual([]);
    });
  });

  describe('unknown and malformed ARNs', () => {
    const missingExecution = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${TOY_NAME}:nope`;

    it('answers ExecutionDoesNotExist for an unknown execution', async () => {
      for (const command of [
        new DescribeExecutionCommand({ executionArn: missingExecution }),
        new GetExecutionHistoryCommand({ executionArn: missingExecution }),
        new StopExecutionCommand({ executionArn: missingExecution }),
      ]) {
        await expect(client.send(command as DescribeExecutionCommand)).rejects.toBeInstanceOf(
          ExecutionDoesNotExist,
        );
      }
    });

    it('answers StateMachineDoesNotExist for an unknown state machine', async () => {
      const missing = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Nope`;
      await expect(
        client.send(new StartExecutionCommand({ stateMachineArn: missing })),
      ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
      await expect(
        client.send(new ListExecutionsCommand({ stateMachineArn: missing })),
      ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
      await expect(
        client.send(new DescribeStateMachineCommand({ stateMachineArn: missing })),
      ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    });

    it('answers InvalidArn for ARNs of the wrong shape or kind', async () => {
      await expect(
        client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
      ).rejects.toBeInstanceOf(InvalidArn);
      await expect(
        client.send(new DescribeExecutionCommand({ executionArn: toyArn })),
      ).rejects.toBeInstanceOf(InvalidArn);
      await expect(
        client.send(new StartExecutionCommand({ stateMachineArn: missingExecution })),
      ).rejects.toBeInstanceOf(InvalidArn);
    });
  });

  describe('Retry and Catch on errors thrown by handlers', () => {
    it('retries a custom error name and then succeeds', async () => {
      script.deliverSteps = [
        async () => {
          throw new MailDeliveryError('SES throttled');
        },
        async () => {
          throw new MailDeliveryError('SES throttled again');
        },
      ];
      const described = await runToEnd({ name: 'Ada', vip: true }, 'retried');
      expect(described.status).toBe('SUCCEEDED');
      expect(JSON.parse(described.output!).delivery).toEqual({ delivered: true });
      expect(script.deliverEvents).toHaveLength(3);

      const events = await historyOf(described.executionArn);
      const deliverTypes = events
        .map((e) => e.type!)
        .filter((type) => type.startsWith('Task') && type !== 'TaskStateEntered');
      expect(deliverTypes).toEqual([
        'TaskStateExited', // Greet
        'TaskScheduled',
        'TaskStarted',
        'TaskFailed',
        'TaskScheduled',
        'TaskStarted',
        'TaskFailed',
        'TaskScheduled',
        'TaskStarted',
        'TaskSucceeded',
        'TaskStateExited',
      ]);
      const failed = events.filter((e) => e.type === 'TaskFailed');
      expect(failed.map((e) => e.taskFailedEventDetails?.error)).toEqual([
        'MailDeliveryError',
        'MailDeliveryError',
      ]);
      expect(JSON.parse(failed[0].taskFailedEventDetails!.cause!)).toMatchObject({
        errorType: 'MailDeliveryError',
        errorMessage: 'SES throttled',
        trace: expect.arrayContaining([
          expect.stringContaining('MailDeliveryError: SES throttled'),
        ]),
      });
    });

    it('catches the error once retries are used up and fails with its name and cause', async () => {
      script.deliverDefault = async () => {
        throw new MailDeliveryError('mailbox unavailable');
      };
      const described = await runToEnd({ name: 'Ada', vip: true }, 'caught');
      expect(script.deliverEvents).toHaveLength(3); // first try + MaxAttempts 2
      expect(described.status).toBe('FAILED');
      expect(described.error).toBe('MailDeliveryError');
      expect(JSON.parse(described.cause!)).toMatchObject({
        errorType: 'MailDeliveryError',
        errorMessage: 'mailbox unavailable',
      });
      const events = await historyOf(described.executionArn);
      expect(events.slice(-4).map((e) => e.type)).toEqual([
        'TaskFailed',
        'TaskStateExited',
        'FailStateEntered',
        'ExecutionFailed',
      ]);
      expect(events.at(-1)?.executionFailedEventDetails?.error).toBe('MailDeliveryError');
    });

    it('does not retry other error names, but Catch States.ALL takes them', async () => {
      script.deliverDefault = async () => {
        throw new TypeError('undefined is not a function');
      };
      const described = await runToEnd({ vip: true }, 'type-error');
      expect(script.deliverEvents).toHaveLength(1);
      expect(described.status).toBe('FAILED');
      expect(described.error).toBe('TypeError');
    });

    it('reports a thrown non-Error by its type, as the Lambda runtime does', async () => {
      script.deliverDefault = () => Promise.reject('plain string');
      const described = await runToEnd({ vip: true }, 'thrown-string');
      expect(described.error).toBe('string');
      expect(JSON.parse(described.cause!)).toEqual({
        errorType: 'string',
        errorMessage: 'plain string',
        trace: [],
      });
    });

    it('fails the execution when an uncaught handler error ends it, and keeps serving', async () => {
      script.greet = async () => {
        throw new RangeError('greeting too long');
      };
      const described = await runToEnd({ name: 'Ada' }, 'uncaught');
      expect(described).toMatchObject({ status: 'FAILED', error: 'RangeError' });
      const events = await historyOf(described.executionArn);
      expect(events.map((e) => e.type)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
        'ExecutionFailed',
      ]);
      script.greet = async () => 'fine again';
      expect((await runToEnd({}, 'after-failure')).status).toBe('SUCCEEDED');
    });
  });

  describe('StopExecution', () => {
    it('aborts a running execution with the given error and cause', async () => {
      const held = gate();
      script.greet = async () => {
        await held.wait();
        return 'too late';
      };
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn: toyArn, name: 'to-stop' }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20)); // the task is running
      const stopped = await client.send(
        new StopExecutionCommand({
          executionArn: started.executionArn,
          error: 'Operator',
          cause: 'stopped by a test',
        }),
      );
      expect(stopped.stopDate).toBeInstanceOf(Date);
      const described = await client.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      expect(described).toMatchObject({
        status: 'ABORTED',
        error: 'Operator',
        cause: 'stopped by a test',
      });
      held.release();
      await service.idle();
      const events = await historyOf(started.executionArn);
      expect(events.map((e) => e.type)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'ExecutionAborted',
      ]);
      expect(events.at(-1)?.executionAbortedEventDetails).toEqual({
        error: 'Operator',
        cause: 'stopped by a test',
      });
      const after = await client.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      expect(after.status).toBe('ABORTED'); // the late handler result changes nothing
    });
  });

  describe('listing and paging', () => {
    it('lists executions newest first, filtered by status, page by page', async () => {
      script.deliverDefault = async () => {
        throw new TypeError('broken');
      };
      for (const [index, vip] of [false, true, false, true, false].entries()) {
        await runToEnd({ vip }, `run-${index}`);
        await new Promise((resolve) => setTimeout(resolve, 2)); // distinct start times
      }
      const names: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await client.send(
          new ListExecutionsCommand({ stateMachineArn: toyArn, maxResults: 2, nextToken }),
        );
        expect(page.executions!.length).toBeLessThanOrEqual(2);
        names.push(...page.executions!.map((e) => e.name!));
        nextToken = page.nextToken;
        pages++;
      } while (nextToken);
      expect(pages).toBe(3);
      expect(names).toEqual(['run-4', 'run-3', 'run-2', 'run-1', 'run-0']);

      const failed = await client.send(
        new ListExecutionsCommand({ stateMachineArn: toyArn, statusFilter: 'FAILED' }),
      );
      expect(failed.executions!.map((e) => [e.name, e.status])).toEqual([
        ['run-3', 'FAILED'],
        ['run-1', 'FAILED'],
      ]);
      expect(failed.executions![0].stopDate).toBeInstanceOf(Date);
    });

    it('pages the history in both orders and can leave out execution data', async () => {
      const described = await runToEnd({ name: 'Ada', vip: true }, 'paged');
      const all = await historyOf(described.executionArn);

      const collect = async (reverseOrder: boolean) => {
        const ids: number[] = [];
        let nextToken: string | undefined;
        do {
          const page = await client.send(
            new GetExecutionHistoryCommand({
              executionArn: described.executionArn,
              maxResults: 5,
              reverseOrder,
              nextToken,
            }),
          );
          ids.push(...page.events!.map((e) => e.id!));
          nextToken = page.nextToken;
        } while (nextToken);
        return ids;
      };
      expect(await collect(false)).toEqual(all.map((e) => e.id));
      expect(await collect(true)).toEqual(all.map((e) => e.id).reverse());

      const lean = await client.send(
        new GetExecutionHistoryCommand({
          executionArn: described.executionArn,
          includeExecutionData: false,
        }),
      );
      expect(lean.events![0].executionStartedEventDetails?.input).toBeUndefined();
      expect(lean.events![1].stateEnteredEventDetails).toEqual({
        name: 'Greet',
        inputDetails: { truncated: false },
      });
    });

    it('refuses a pagination token it did not issue', async () => {
      await expect(
        client.send(new ListExecutionsCommand({ stateMachineArn: toyArn, nextToken: 'bogus' })),
      ).rejects.toBeInstanceOf(InvalidToken);
    });
  });

  describe('concurrency', () => {
    it('runs many executions at once, each with its own result', async () => {
      script.greet = async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return `Hello ${(event as { name: string }).name}`;
      };
      const names = Array.from({ length: 25 }, (_, i) => `p${i}`);
      const started = await Promise.all(
        names.map((name) =>
          client.send(
            new StartExecutionCommand({
              stateMachineArn: toyArn,
              name,
              input: JSON.stringify({ name }),
            }),
          ),
        ),
      );
      await service.idle();
      const outputs = await Promise.all(
        started.map(async ({ executionArn }) => {
          const d = await client.send(new DescribeExecutionCommand({ executionArn }));
          return JSON.parse(d.output!).greeting;
        }),
      );
      expect(outputs).toEqual(names.map((name) => `Hello ${name}`));
    });
  });
});

describe('LocalStepFunctions task timeouts', () => {
  it('fails a handler that overruns its function timeout with States.Timeout', async () => {
    const script = toyScript();
    const held = gate();
    script.deliverDefault = async () => {
      await held.wait();
      return { delivered: true };
    };
    const { service, client, toyArn } = await startToy(script, { deliverTimeoutSeconds: 1 });
    try {
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn: toyArn, input: '{"vip":true}' }),
      );
      await service.idle();
      const described = await client.send(
        new DescribeExecutionCommand({ executionArn: started.executionArn }),
      );
      expect(described).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
      const history = await client.send(
        new GetExecutionHistoryCommand({ executionArn: started.executionArn }),
      );
      const types = history.events!.map((e) => e.type);
      expect(types).toContain('TaskTimedOut');
      expect(types).not.toContain('TaskSucceeded');
      // MailDeliveryError is the only retried name: a timeout is not retried
      expect(script.deliverEvents).toHaveLength(1);
    } finally {
      held.release();
      client.destroy();
      await service.stop();
    }
  });
});

describe('LocalStepFunctions with lambda:invoke and a FunctionName from the input', () => {
  it('finds the function at run time and honours a TimeoutSeconds of AWS size', async () => {
    const { service, client } = await startToy(toyScript(), {
      stateMachines: [
        {
          name: 'Dynamic',
          definition: {
            StartAt: 'Call',
            TimeoutSeconds: 99999999,
            States: {
              Call: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { 'FunctionName.$': '$.fn', 'Payload.$': '$.payload' },
                OutputPath: '$.Payload',
                TimeoutSeconds: 99999999,
                End: true,
              },
            },
          },
          taskHandlers: {
            'arn:aws:lambda:us-east-1:000000000000:function:doubler': {
              functionName: 'doubler',
              timeoutSeconds: 5,
              handler: async (event) => {
                await new Promise((resolve) => setTimeout(resolve, 30));
                return { doubled: (event as { n: number }).n * 2 };
              },
            },
          },
        },
      ],
    });
    try {
      const stateMachineArn = service.stateMachineArn('Dynamic');
      const found = await client.send(
        new StartExecutionCommand({
          stateMachineArn,
          input: JSON.stringify({ fn: 'doubler', payload: { n: 21 } }),
        }),
      );
      const missing = await client.send(
        new StartExecutionCommand({
          stateMachineArn,
          input: JSON.stringify({ fn: 'nobody', payload: {} }),
        }),
      );
      await service.idle();
      const ok = await client.send(
        new DescribeExecutionCommand({ executionArn: found.executionArn }),
      );
      expect(ok.status).toBe('SUCCEEDED');
      expect(JSON.parse(ok.output!)).toEqual({ doubled: 42 });
      const failed = await client.send(
        new DescribeExecutionCommand({ executionArn: missing.executionArn }),
      );
      expect(failed).toMatchObject({
        status: 'FAILED',
        error: 'Lambda.ResourceNotFoundException',
      });
    } finally {
      client.destroy();
      await service.stop();
    }
  });
});

describe('LocalStepFunctions logging', () => {
  it('logs the end of each execution at info with its name, status and duration', async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const record = (obj: object, msg?: string) =>
      lines.push({ obj: obj as Record<string, unknown>, msg });
    const script = toyScript();
    script.greet = async () => {
      throw new RangeError('nope');
    };
    const { service, client, toyArn } = await startToy(script, {
      logger: { info: record, warn: record, error: record },
    });
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn: toyArn, name: 'logged' }));
      await service.idle();
    } finally {
      client.destroy();
      await service.stop();
    }
    expect(lines).toEqual([
      {
        msg: 'local Step Functions: execution ended',
        obj: {
          stateMachine: TOY_NAME,
          execution: 'logged',
          status: 'FAILED',
          error: 'RangeError',
          durationMs: expect.any(Number),
        },
      },
    ]);
  });
});

describe('LocalStepFunctions start-up checks', () => {
  it('refuses to listen on anything but loopback', async () => {
    await expect(startToy(toyScript(), { host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('refuses a port in use with an error that keeps the code EADDRINUSE', async () => {
    const { service, client } = await startToy(toyScript());
    try {
      const port = Number(new URL(service.endpoint).port);
      const refused = startToy(toyScript(), { port });
      await expect(refused).rejects.toThrow(`cannot use port ${port}: it is already in use`);
      await expect(refused).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      client.destroy();
      await service.stop();
    }
  });

  it('refuses a Task whose Resource has no local handler', async () => {
    await expect(
      startToy(toyScript(), {
        stateMachines: [
          {
            name: 'Broken',
            definition: {
              StartAt: 'Call',
              States: {
                Call: {
                  Type: 'Task',
                  Resource: 'arn:aws:lambda:us-east-1:000000000000:function:missing',
                  End: true,
                },
              },
            },
            taskHandlers: {},
          },
        ],
      }),
    ).rejects.toThrow(/Task state "Call": no local handler for Resource/);
  });
});
