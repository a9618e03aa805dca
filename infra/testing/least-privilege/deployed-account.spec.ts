/** The template's intrinsics, resolved as CloudFormation would in the deployed account. */
import { STREAM_LABEL, TemplateResolver } from './deployed-account';

const resolver = new TemplateResolver(
  {
    Users: { Type: 'AWS::DynamoDB::Table' },
    Machine: { Type: 'AWS::StepFunctions::StateMachine' },
    Topic: { Type: 'AWS::SNS::Topic' },
  },
  { SesIdentity: 'cards.example' },
);

describe('TemplateResolver', () => {
  it('resolves GetAtt, Ref of resources, parameters and pseudo parameters, and joins', () => {
    expect(
      resolver.resolve({
        Resource: [
          { 'Fn::GetAtt': ['Users', 'StreamArn'] },
          { Ref: 'Machine' },
          {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ses:',
                { Ref: 'AWS::Region' },
                ':identity/',
                { Ref: 'SesIdentity' },
              ],
            ],
          },
        ],
      }),
    ).toEqual({
      Resource: [
        `arn:aws:dynamodb:eu-west-1:123456789012:table/Users/stream/${STREAM_LABEL}`,
        'arn:aws:states:eu-west-1:123456789012:stateMachine:Machine',
        'arn:aws:ses:eu-west-1:identity/cards.example',
      ],
    });
  });

  it.each([
    ['an attribute of a type it does not know', { 'Fn::GetAtt': ['Topic', 'TopicName'] }],
    ['a parameter without a value', { Ref: 'FromAddress' }],
    ['an intrinsic it does not know', { 'Fn::Sub': 'arn:${AWS::Region}' }],
  ])('refuses %s instead of guessing', (_case, value) => {
    expect(() => resolver.resolve(value)).toThrow(/Cannot resolve/);
  });
});
