/**
 * The synthesized template as it would stand in a deployed account: every Ref, GetAtt and
 * join of an IAM policy turned into the ARN CloudFormation would put there. One account,
 * one region, and each resource's physical name is its logical id, so that a recorded
 * call's resource, mapped onto the same resources (iam-requests.ts), compares equal.
 */
export const DEPLOYED = {
  partition: 'aws',
  region: 'eu-west-1',
  accountId: '123456789012',
} as const;

/** A stream's label in its ARN; DynamoDB sets it when the stream is enabled. */
export const STREAM_LABEL = '2026-01-01T00:00:00.000';

type TemplateResource = { readonly Type: string };

const { partition, region, accountId } = DEPLOYED;

export const deployedArn = {
  table: (name: string) => `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}`,
  stream: (table: string) => `${deployedArn.table(table)}/stream/${STREAM_LABEL}`,
  function: (name: string) => `arn:${partition}:lambda:${region}:${accountId}:function:${name}`,
  stateMachine: (name: string) =>
    `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`,
  sesIdentity: (identity: string) =>
    `arn:${partition}:ses:${region}:${accountId}:identity/${identity}`,
  logGroup: (name: string) => `arn:${partition}:logs:${region}:${accountId}:log-group:${name}:*`,
  queue: (name: string) => `arn:${partition}:sqs:${region}:${accountId}:${name}`,
  role: (name: string) => `arn:${partition}:iam::${accountId}:role/${name}`,
};

const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': partition,
  'AWS::Region': region,
  'AWS::AccountId': accountId,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** What `Fn::GetAtt [id, attribute]` of each resource type used in a policy resolves to. */
const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, (id: string) => string>>>> = {
  'AWS::DynamoDB::Table': { Arn: deployedArn.table, StreamArn: deployedArn.stream },
  'AWS::Lambda::Function': { Arn: deployedArn.function },
  'AWS::Logs::LogGroup': { Arn: deployedArn.logGroup },
  'AWS::SQS::Queue': { Arn: deployedArn.queue },
  'AWS::IAM::Role': { Arn: deployedArn.role },
};

/** What `Ref` of a resource resolves to, for the types whose Ref is an ARN or name. */
const REFS: Readonly<Record<string, (id: string) => string>> = {
  'AWS::StepFunctions::StateMachine': deployedArn.stateMachine,
  'AWS::DynamoDB::Table': (id) => id,
  'AWS::Lambda::Function': (id) => id,
  'AWS::IAM::Role': (id) => id,
};

export class TemplateResolver {
  constructor(
    private readonly resources: Readonly<Record<string, TemplateResource>>,
    /** Values for the template's parameters that policies refer to. */
    private readonly parameters: Readonly<Record<string, string>>,
  ) {}

  /**
   * A policy element with its intrinsics resolved; strings and lists stay as they are.
   * @throws Error naming an intrinsic, a parameter or a resource type it cannot resolve
   */
  resolve(value: unknown): unknown {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [[key, argument]] = entries as [[string, unknown]];
      if (key === 'Ref') return this.ref(String(argument));
      if (key === 'Fn::GetAtt') return this.getAtt(argument as [string, string]);
      if (key === 'Fn::Join') {
        const [separator, parts] = argument as [string, unknown[]];
        return parts.map((part) => String(this.resolve(part))).join(separator);
      }
      if (key.startsWith('Fn::')) throw new Error(`Cannot resolve ${key} in a policy`);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  private ref(name: string): string {
    const pseudo = PSEUDO_PARAMETERS[name];
    if (pseudo) return pseudo;
    if (this.parameters[name] !== undefined) return this.parameters[name];
    const type = this.resources[name]?.Type;
    const ref = type ? REFS[type] : undefined;
    if (!ref)
      throw new Error(`Cannot resolve Ref ${name} (${type ?? 'no such resource or parameter'})`);
    return ref(name);
  }

  private getAtt([id, attribute]: [string, string]): string {
    const type = this.resources[id]?.Type;
    const resolve = type ? ATTRIBUTES[type]?.[attribute] : undefined;
    if (!resolve)
      throw new Error(`Cannot resolve GetAtt ${id}.${attribute} (${type ?? 'no such resource'})`);
    return resolve(id);
  }
}
