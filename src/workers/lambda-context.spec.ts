import { functionArn, LOCAL_ACCOUNT_ID, lambdaContext } from './lambda-context';

const STREAM_TRIGGER = {
  functionName: 'user-table-trigger',
  region: 'eu-west-1',
  accountId: LOCAL_ACCOUNT_ID,
  timeoutMs: 30_000,
};

describe('functionArn', () => {
  it("is Lambda's unqualified function ARN", () => {
    expect(functionArn('us-east-1', '123456789012', 'toy-greet')).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:toy-greet',
    );
  });
});

describe('lambdaContext', () => {
  it('counts the remaining time down from the function timeout', () => {
    const context = lambdaContext(STREAM_TRIGGER, { now: Date.now() - 10_000 });
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(20_000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(19_000);
    expect(context.invokedFunctionArn).toBe(
      'arn:aws:lambda:eu-west-1:000000000000:function:user-table-trigger',
    );
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => context.succeed('done')).toThrow(/promise/);
  });

  it("reports the function's settings, names and log stream as Lambda does", () => {
    const context = lambdaContext(STREAM_TRIGGER, { now: Date.parse('2026-11-27T02:01:00Z') });
    expect(context).toMatchObject({
      callbackWaitsForEmptyEventLoop: true,
      functionName: 'user-table-trigger',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/user-table-trigger',
      logStreamName: expect.stringMatching(/^2026\/11\/27\/\[\$LATEST\][0-9a-f]{32}$/),
    });
    expect(lambdaContext({ ...STREAM_TRIGGER, memoryMb: 256 }).memoryLimitInMB).toBe('256');
    expect(lambdaContext(STREAM_TRIGGER).awsRequestId).not.toBe(context.awsRequestId);
  });

  it('refuses every callback-style completion when the caller takes none', () => {
    const context = lambdaContext(STREAM_TRIGGER);
    expect(() => context.done()).toThrow(/promise/);
    expect(() => context.fail('no')).toThrow(/promise/);
    expect(() => context.succeed('done')).toThrow(/promise/);
  });

  it('hands done/fail/succeed to the completion the caller gives', () => {
    const completion = { resolve: jest.fn(), reject: jest.fn() };
    const context = lambdaContext(STREAM_TRIGGER, { completion });
    const error = new Error('boom');
    context.succeed({ ok: true });
    context.done(undefined, 'result');
    context.done(error);
    context.fail('failed');
    expect(completion.resolve.mock.calls).toEqual([[{ ok: true }], ['result']]);
    expect(completion.reject.mock.calls).toEqual([[error], ['failed']]);
  });
});
