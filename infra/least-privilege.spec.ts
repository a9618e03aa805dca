/**
 * Least privilege, proven by the calls the code really makes. Every other test file of the
 * run records each AWS call a component makes over the local stand-ins (the API, the three
 * Lambdas, the state machine's task invocations: src/platform/aws/call-observers.ts,
 * test/support/aws-calls/); this file runs after all of them (recorded-calls-last-runner.ts)
 * and evaluates each recorded call against that component's role in the synthesized
 * template with an IAM policy evaluator (@cloud-copilot/iam-simulate), every ARN resolved
 * as in a deployed account. The other way round, every action a role grants must have been
 * used by a recorded call, unless the stack lists it as one only AWS itself uses.
 *
 * Alone (`npm run test:iam`), it proves the calls the last `npm test` recorded against the
 * stack as it is now: the quick check after editing a grant.
 */
import { globSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { loadConfig } from '../src/config/app-config';
import { AWS_PRINCIPALS, type AwsPrincipal } from '../src/platform/aws/principals';
import { CHECK_SPECS } from '../test/support/aws-calls/recorded-calls-last-runner';
import { AWS_CALL_LOG_VARIABLE, readAwsCallLog } from '../test/support/aws-calls/aws-call-log';
import { REPO_ROOT } from './lambda-bundling';
import {
  DEPLOYED,
  deployedArn,
  TemplateResolver,
} from './testing/least-privilege/deployed-account';
import {
  type DeployedResources,
  type IamRequest,
  iamRequestsOf,
  senderDomain,
} from './testing/least-privilege/iam-requests';
import { removeSynthesized, synthesizeWithoutBundling } from './testing/synthesized-app';

type Json = Record<string, unknown>;
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Json;
}
interface NamedPolicy {
  readonly name: string;
  readonly policy: { readonly Version: string; readonly Statement: Statement[] };
}

afterAll(removeSynthesized);

const { stack, template } = synthesizeWithoutBundling();
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const logicalId = (construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

// ---- The deployed account: what each local name stands for, and the roles' policies. ----
const defaults = loadConfig({});
const SES_IDENTITY = senderDomain(defaults.activation.fromAddress);
const resolver = new TemplateResolver(resources, { SesIdentity: SES_IDENTITY });

const stackTables = {
  users: stack.userTable,
  userEmails: stack.userEmailTable,
  sessions: stack.sessionTable,
  rateLimits: stack.rateLimitTable,
} as const;
const stackFunctions: Readonly<Record<string, IConstruct>> = {
  [AWS_PRINCIPALS.userTableTrigger]: stack.functions.userTableTrigger,
  [AWS_PRINCIPALS.getActivationStatus]: stack.functions.getActivationStatus,
  [AWS_PRINCIPALS.sendActivationMail]: stack.functions.sendActivationMail,
};
/** A configured name, or the name with the suffix tests add to keep their data apart. */
const isNamed = (name: string, base: string) =>
  name === base || (name.startsWith(base) && /^-[0-9a-z]+$/.test(name.slice(base.length)));

const deployed: DeployedResources = {
  tableOf: (name) => {
    const entry = (Object.keys(stackTables) as (keyof typeof stackTables)[]).find((key) =>
      isNamed(name, defaults.dynamodb.tables[key]),
    );
    return entry && logicalId(stackTables[entry]);
  },
  stateMachineOf: (name) =>
    isNamed(name, defaults.stepFunctions.stateMachineName)
      ? logicalId(stack.stateMachine)
      : undefined,
  functionOf: (name) => (stackFunctions[name] ? logicalId(stackFunctions[name]) : undefined),
};

const PRINCIPALS = Object.values(AWS_PRINCIPALS);
const roleIdOf = (principal: AwsPrincipal) => logicalId(stack.roles[principal]);

/** The identity policies attached to `principal`'s role, resolved as deployed. */
function policiesOf(principal: AwsPrincipal): NamedPolicy[] {
  const roleId = roleIdOf(principal);
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
    .map(([name, policy]) => ({
      name,
      policy: resolver.resolve(policy.Properties.PolicyDocument) as NamedPolicy['policy'],
    }));
}

/** `Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied`; an invalid request fails the test. */
async function evaluate(
  principal: AwsPrincipal,
  policies: NamedPolicy[],
  request: Pick<IamRequest, 'action' | 'resource'>,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: deployedArn.role(roleIdOf(principal)),
        action: request.action,
        resource: { resource: request.resource, accountId: DEPLOYED.accountId },
        contextVariables: {},
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `The evaluator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult;
}

// ---- The recorded calls, as IAM requests. ----
const logDir = process.env[AWS_CALL_LOG_VARIABLE] ?? join(REPO_ROOT, 'reports', 'aws-calls');
const log = readAwsCallLog(logDir);

interface RecordedRequest extends IamRequest {
  readonly calls: number;
  /** The first test that made it. */
  readonly firstIn: string;
}
const unmapped = new Set<string>();
const recorded = new Map<string, RecordedRequest>();
for (const call of log.calls) {
  let requests: IamRequest[];
  try {
    requests = iamRequestsOf(call, deployed);
  } catch (error) {
    unmapped.add(`${(error as Error).message} (in ${call.test ?? 'a child process'})`);
    continue;
  }
  for (const request of requests) {
    const key = `${request.principal} ${request.action} ${request.resource}`;
    const seen = recorded.get(key);
    recorded.set(key, {
      ...request,
      calls: (seen?.calls ?? 0) + 1,
      firstIn: seen?.firstIn ?? call.test ?? 'a child process (a Lambda bundle)',
    });
  }
}
const requestsOf = (principal: AwsPrincipal) =>
  [...recorded.values()].filter((request) => request.principal === principal);

/** The run that recorded the calls ran every test file (else a grant may look unused). */
function expectWholeRunRecorded(): void {
  if (!log.manifest) {
    throw new Error(
      `No recorded AWS calls in ${relative(REPO_ROOT, logDir)}: run the whole suite (npm test) first.`,
    );
  }
  const all = globSync('{src,lambdas,infra,test}/**/*.spec.ts', { cwd: REPO_ROOT })
    .filter((file) => !CHECK_SPECS.includes(file))
    .sort();
  const missing = all.filter((file) => !log.manifest!.testFiles.includes(file));
  if (missing.length > 0) {
    throw new Error(
      `The recorded calls come from ${all.length - missing.length} of ${all.length} test files ` +
        `(not ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}), so unused ` +
        'grants cannot be told: run the whole suite (npm test).',
    );
  }
}

const serviceOnly = (principal: AwsPrincipal, action: string) =>
  stack.serviceOnlyGrants.some(
    (grant) => grant.principal === principal && grant.actions.includes(action),
  );

describe('least privilege, proven by the AWS calls the tests recorded', () => {
  it('maps every recorded call to what IAM authorizes for it', () => {
    expect(log.calls.length).toBeGreaterThan(0);
    expect([...unmapped]).toEqual([]);
  });

  it('has the calls of the Lambda bundles too, which run in child processes', () => {
    expectWholeRunRecorded();
    const fromChildren = new Set(
      log.calls.filter((call) => call.test === undefined).map((call) => call.principal),
    );
    expect([...fromChildren].sort()).toEqual(
      [
        AWS_PRINCIPALS.api,
        AWS_PRINCIPALS.getActivationStatus,
        AWS_PRINCIPALS.sendActivationMail,
      ].sort(),
    );
  });

  it('has a role for each principal and no role that belongs to none', () => {
    const roles = Object.entries(resources)
      .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
      .map(([id]) => id)
      .sort();
    expect(roles).toEqual(PRINCIPALS.map(roleIdOf).sort());
  });

  it('uses no managed policy, no inline role policy and no action wildcard', () => {
    const roles = Object.values(resources).filter((resource) => resource.Type === 'AWS::IAM::Role');
    expect(roles).toHaveLength(PRINCIPALS.length);
    for (const role of roles) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
    for (const principal of PRINCIPALS) {
      for (const { policy } of policiesOf(principal)) {
        for (const statement of policy.Statement) {
          expect(statement.Effect).toBe('Allow');
          for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
        }
      }
    }
  });

  it.each(PRINCIPALS)('%s: its role allows every call it made', async (principal) => {
    const policies = policiesOf(principal);
    const denied: string[] = [];
    for (const request of requestsOf(principal)) {
      const result = await evaluate(principal, policies, request);
      if (result === 'Allowed') continue;
      denied.push(
        `${principal} calls ${request.action} on ${request.resource}: ${result}. ` +
          `No statement of ${policies.map((policy) => policy.name).join(', ') || 'any policy'} ` +
          `(role ${roleIdOf(principal)}) allows it. ${request.calls} call(s), first in ${request.firstIn}.`,
      );
    }
    expect(denied).toEqual([]);
  });

  it.each(PRINCIPALS)(
    '%s: every action its role grants was used by a recorded call, or is one only AWS uses',
    async (principal) => {
      expectWholeRunRecorded();
      const requests = requestsOf(principal);
      const unused: string[] = [];
      for (const { name, policy } of policiesOf(principal)) {
        for (const statement of policy.Statement) {
          for (const action of [statement.Action].flat()) {
            if (serviceOnly(principal, action)) continue;
            for (const resource of [statement.Resource].flat()) {
              const grant = {
                name,
                policy: {
                  Version: policy.Version,
                  Statement: [{ ...statement, Action: action, Resource: resource }],
                },
              };
              let used = false;
              for (const request of requests.filter((r) => r.action === action)) {
                if ((await evaluate(principal, [grant], request)) === 'Allowed') used = true;
              }
              if (!used) {
                unused.push(
                  `${principal}: ${name} grants ${action} on ${resource}, which no recorded call used. ` +
                    'Remove the grant, or list it in serviceOnlyGrants (infra/card-store-stack.ts) with the reason.',
                );
              }
            }
          }
        }
      }
      expect(unused).toEqual([]);
    },
  );

  it('lists as AWS’s own only grants the role has and no recorded call used', () => {
    const stale: string[] = [];
    for (const { principal, actions } of stack.serviceOnlyGrants) {
      const granted = policiesOf(principal).flatMap(({ policy }) =>
        policy.Statement.flatMap((statement) => [statement.Action].flat()),
      );
      for (const action of actions) {
        if (!granted.includes(action)) stale.push(`${principal}: ${action} is not granted`);
        if (requestsOf(principal).some((request) => request.action === action)) {
          stale.push(`${principal}: ${action} is called by our code, not only by AWS`);
        }
      }
    }
    expect(stale).toEqual([]);
  });
});
