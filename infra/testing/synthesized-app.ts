/**
 * What the infra specs need to see the stack as `cdk synth` and `cdk deploy` do: cdk.json's
 * context, the synthesized app, and a function's environment as Lambda will have it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { defineCardStoreApp } from '../card-store-app';
import type { CardStoreStack } from '../card-store-stack';
import { REPO_ROOT } from '../lambda-bundling';

/** The feature flags `cdk synth` runs with; a test's App gets them to see the same template. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * A function's environment as Lambda will have it: the template's literal values as they
 * are, and for each value CloudFormation fills in at deploy time (a Ref, a GetAtt, a join)
 * the one in `deployTime`.
 * @throws Error naming a variable that `deployTime` has no value for
 */
export function deployedEnvironment(
  variables: Readonly<Record<string, unknown>>,
  deployTime: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') env[name] = value;
    else if (deployTime[name] !== undefined) env[name] = deployTime[name];
    else throw new Error(`No deploy-time value for ${name}: add one to the test's deployTime`);
  }
  return env;
}

/**
 * Synthesizes the app as `cdk synth` does (cdk-nag included), without bundling, into a
 * fresh folder that `removeSynthesized` deletes; `extra` may add to the stack first.
 */
export function synthesizeWithoutBundling(
  context: Record<string, string> = {},
  extra?: (stack: CardStoreStack) => void,
): { stack: CardStoreStack; template: Template; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'card-store-cdk-'));
  synthesized.push(outdir);
  const app = new App({
    outdir,
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = defineCardStoreApp(app);
  extra?.(stack);
  app.synth();
  return { stack, template: Template.fromStack(stack), outdir };
}

const synthesized: string[] = [];

/** Deletes every folder synthesizeWithoutBundling made (a spec's afterAll). */
export function removeSynthesized(): void {
  for (const dir of synthesized.splice(0)) rmSync(dir, { recursive: true, force: true });
}
