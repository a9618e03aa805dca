import type { LocalStepFunctions } from './local-step-functions';
import { startToy, toyScript } from './testing/toy-state-machine';

/** The wire level, as the AWS CLI (botocore) and other SDKs see it. */
describe('the awsJson1_0 wire protocol', () => {
  let service: LocalStepFunctions;
  let toyArn: string;

  beforeAll(async () => {
    const started = await startToy(toyScript());
    started.client.destroy();
    ({ service, toyArn } = started);
  });

  afterAll(() => service.stop());

  async function call(action: string, body: string, method = 'POST') {
    const response = await fetch(`${service.endpoint}/`, {
      method,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `AWSStepFunctions.${action}`,
      },
      body: method === 'POST' ? body : undefined,
    });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      errorType: response.headers.get('x-amzn-errortype'),
      requestId: response.headers.get('x-amzn-requestid'),
      json: (await response.json()) as Record<string, unknown>,
    };
  }

  it('answers with application/x-amz-json-1.0, a request id and epoch-second timestamps', async () => {
    const started = await call('StartExecution', JSON.stringify({ stateMachineArn: toyArn }));
    expect(started.status).toBe(200);
    expect(started.contentType).toBe('application/x-amz-json-1.0');
    expect(started.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof started.json.startDate).toBe('number');
    expect(Math.abs((started.json.startDate as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  it.each([
    ['an unknown action', 'CreateStateMachine', '{}', 'UnknownOperationException'],
    ['a body that is not JSON', 'ListStateMachines', '{nope', 'SerializationException'],
    ['a JSON body that is not an object', 'ListStateMachines', '[]', 'SerializationException'],
    [
      'a parameter of the wrong type',
      'ListStateMachines',
      '{"maxResults":"ten"}',
      'SerializationException',
    ],
    ['a parameter out of range', 'ListStateMachines', '{"maxResults":5000}', 'ValidationException'],
    ['a missing required parameter', 'DescribeExecution', '{}', 'ValidationException'],
  ])('answers %s with a 400 and the error code', async (_what, action, body, code) => {
    const answer = await call(action, body);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ __type: code, message: expect.any(String) });
    expect(answer.errorType).toBe(code);
  });

  it('answers a GET without a 500', async () => {
    const answer = await call('ListStateMachines', '', 'GET');
    expect(answer.status).toBe(404);
    expect(answer.json.__type).toBe('UnknownOperationException');
  });

  it('treats an empty body as no parameters', async () => {
    const answer = await call('ListStateMachines', '');
    expect(answer.status).toBe(200);
    expect(answer.json.stateMachines).toHaveLength(1);
  });
});
