import { coldStart } from '../test/support/cold-start';
import { PIPELINE_FUNCTIONS } from './functions';

const GOOD_ENV = {
  AWS_REGION: 'eu-west-1',
  USER_TABLE_NAME: 'User',
  FROM_ADDRESS: 'no-reply@card-store.example',
  ACTIVATION_URL_BASES: 'https://cards.example/activate',
  STEP_FUNCTION_ARN:
    'arn:aws:states:eu-west-1:123456789012:stateMachine:SF_CardStore_SendUserActivationMail',
};

describe.each(PIPELINE_FUNCTIONS.map((fn) => [fn.name, fn.entry]))(
  'the Lambda entry of %s',
  (_name, entry) => {
    it('exports a handler built from process.env', async () => {
      await expect(coldStart(entry, GOOD_ENV)).resolves.toMatchObject({
        handler: expect.any(Function),
      });
    });

    it('fails the cold start with LambdaEnvError when a variable is missing', async () => {
      await expect(coldStart(entry, {})).rejects.toMatchObject({
        name: 'LambdaEnvError',
        message: expect.stringContaining('AWS_REGION is required'),
      });
    });
  },
);
