/**
 * The Lambda bundles as `cdk deploy` uploads them: the app is synthesized WITH bundling
 * (NodejsFunction, esbuild, the options of infra/lambda-bundling.ts) and the bundled code
 * is run, not the sources. infra/card-store-stack.spec.ts skips bundling; this file is
 * what catches a bundling option that breaks the deployed functions, above all a minifier
 * that renames the error classes: the state machine's Retry and Catch match error NAMES
 * (`ActivationMailInProgressError`, `UserStoreError`, ...), which DomainError takes from
 * `new.target.name`, so without `keepNames` the retries would silently stop matching.
 *
 * Each bundle runs in a fresh Node process, as Lambda loads it: `require` of index.js and
 * calls of its `handler`, with the function's environment from the template, pointed at
 * this run's DynamoDB Local and a local SES. What BUNDLING leaves external, the runtime's
 * SDK provides on Lambda; NODE_PATH lends the pipeline functions' child the repository's
 * copy instead. The API's child gets none: its bundle must need no node_modules at all.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { App, type CfnElement } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  ACTIVATION_MAIL_SUBJECT,
  ActivationStatus,
  hashActivationToken,
  mintActivationToken,
} from '../src/activation';
import type { ApiResult } from '../src/lambda-handler';
import { ACTIVATE_BUTTON_LABEL } from '../src/users/activation/activation-pages';
import { PAGE_CONTENT_SECURITY_POLICY, STYLESHEET } from '../src/users/pages/page';
import { IMMUTABLE } from '../src/users/pages/site-assets.controller';
import { LocalSes } from '../src/workers/local-ses';
import { newRegistration } from '../test/api/api-helpers';
import {
  AWS_CALL_LOG_VARIABLE,
  childProcessRecorder,
} from '../test/support/aws-calls/aws-call-log';
import { HTTP_API_URL, httpApiEvent, jsonPost } from '../test/support/http-api-event';
import { TestTables, testConfig } from '../test/support/test-app';
import {
  GET_ACTIVATION_STATUS_FUNCTION,
  type PipelineFunction,
  SEND_ACTIVATION_MAIL_FUNCTION,
  USER_TABLE_TRIGGER_FUNCTION,
} from '../lambdas/functions';
import { ACTIVATION_URL_BASE, FROM_ADDRESS, newUser } from '../lambdas/testing/pipeline-fixtures';
import { defineCardStoreApp } from './card-store-app';
import type { CardStoreStack } from './card-store-stack';
import { BUNDLING, LAMBDA_NODE_MAJOR, PAGES_WEB_DIRECTORY, REPO_ROOT } from './lambda-bundling';
import { CDK_JSON_CONTEXT, deployedEnvironment } from './testing/synthesized-app';

type Json = Record<string, unknown>;
interface SourceMap {
  readonly version: number;
  readonly sources: readonly string[];
  readonly sourcesContent?: readonly (string | null)[];
}
/** What the child process reports: the handler's value, or its rejection. */
type Invocation =
  | { readonly value: unknown; readonly error?: undefined }
  | { readonly error: { readonly name: string; readonly message: string } };

const execFileAsync = promisify(execFile);

/** Bundling four functions (esbuild, one after the other) takes several seconds. */
const SYNTH_TIMEOUT_MS = 60_000;

let outdir: string;
let stack: CardStoreStack;
let resources: Record<string, { Properties: Json; Metadata?: Json }>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'card-store-bundles-'));
  const app = new App({
    outdir,
    // No `aws:cdk:bundling-stacks` override: every stack bundles, as in `cdk synth`. Asset
    // metadata (which the CLI turns on) says which asset folder is whose.
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:enable-asset-metadata': true },
    // CDK's own template linter takes ~5 s to load its schemas; card-store-stack.spec.ts
    // runs it. cdk-nag still runs here, as defineCardStoreApp adds it.
    builtinCloudFormationValidation: false,
  });
  stack = defineCardStoreApp(app);
  const assembly = app.synth();
  resources = assembly.getStackArtifact(stack.artifactId).template.Resources;
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

function resourceOf(fn: NodejsFunction) {
  const resource = resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)];
  if (!resource) throw new Error(`${fn.node.path} is not in the template`);
  return resource;
}

/** The folder CDK zips and uploads as the function's code. */
function bundleDir(fn: NodejsFunction): string {
  const assetPath = resourceOf(fn).Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`${fn.node.path} has no aws:asset:path`);
  return join(outdir, assetPath);
}

const pipelineFunctions = () =>
  [
    [USER_TABLE_TRIGGER_FUNCTION, stack.functions.userTableTrigger],
    [GET_ACTIVATION_STATUS_FUNCTION, stack.functions.getActivationStatus],
    [SEND_ACTIVATION_MAIL_FUNCTION, stack.functions.sendActivationMail],
  ] as const satisfies readonly (readonly [PipelineFunction, NodejsFunction])[];

/** BUNDLING's externalModules as esbuild reads them: `*` is a wildcard, subpaths match. */
const EXTERNAL_PATTERNS = (BUNDLING.externalModules ?? []).map(
  (pattern) =>
    new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}(/.*)?$`),
);
const isExternal = (specifier: string) =>
  EXTERNAL_PATTERNS.some((pattern) => pattern.test(specifier));

/** Every module the bundle loads at run time: `require("x")`, or `import("x")` if kept. */
function runTimeModules(code: string): string[] {
  const found = [...code.matchAll(/\b(?:require|import)\("([^"]+)"\)/g)].map((match) => match[1]!);
  return [...new Set(found)].sort();
}

/** The package a source-map entry comes from (its last node_modules/ segment), if any. */
function packageOf(source: string): string | undefined {
  const matches = [...source.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)];
  return matches.at(-1)?.[1];
}

describe.each([
  USER_TABLE_TRIGGER_FUNCTION.name,
  GET_ACTIVATION_STATUS_FUNCTION.name,
  SEND_ACTIVATION_MAIL_FUNCTION.name,
])('the %s bundle', (name) => {
  const target = () => {
    const found = pipelineFunctions().find(([fn]) => fn.name === name);
    if (!found) throw new Error(`no function ${name}`);
    const [definition, fn] = found;
    const dir = bundleDir(fn);
    return { definition, fn, dir, code: readFileSync(join(dir, 'index.js'), 'utf8') };
  };

  it('is one index.js with its map, which Lambda loads as index.handler on Node 24', () => {
    const { fn, dir } = target();
    expect(readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    expect(resourceOf(fn).Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: `nodejs${LAMBDA_NODE_MAJOR}.x`,
    });
  });

  it('has a source map that points into the sources without carrying their text', () => {
    const { definition, dir } = target();
    const map = JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as SourceMap;
    expect(map.version).toBe(3);
    expect(map.sourcesContent).toBeUndefined();
    const entry = relative(REPO_ROOT, definition.entry);
    expect(map.sources.some((source) => source.endsWith(entry))).toBe(true);
  });

  // A Lambda zip has no node_modules: whatever the bundle requires must be Node's own or
  // what lambda-bundling.ts leaves to the runtime, and what it leaves must not be inlined.
  it('loads nothing at run time but Node built-ins and the modules BUNDLING leaves external', () => {
    const { dir, code } = target();
    const modules = runTimeModules(code);
    expect(modules.filter((specifier) => !isBuiltin(specifier) && !isExternal(specifier))).toEqual(
      [],
    );
    const map = JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as SourceMap;
    const inlinedExternals = map.sources.filter((source) => {
      const name = packageOf(source);
      return name !== undefined && isExternal(name);
    });
    expect(inlinedExternals).toEqual([]);
  });
});

it("bundles the API into one index.js, without a source map, beside the pages' files (API_BUNDLING)", () => {
  expect(readdirSync(bundleDir(stack.functions.api))).toEqual(['index.js', 'web']);
  expect(readdirSync(join(bundleDir(stack.functions.api), 'web'))).toEqual(
    readdirSync(join(REPO_ROOT, PAGES_WEB_DIRECTORY)),
  );
  expect(resourceOf(stack.functions.api).Properties.Handler).toBe('index.handler');
});

describe('the bundled handlers in a fresh Node process', () => {
  let tables: TestTables;
  let ses: LocalSes;

  beforeAll(async () => {
    [tables, ses] = await Promise.all([new TestTables(testConfig()).create(), LocalSes.start(0)]);
  });

  afterAll(async () => {
    await Promise.all([tables?.drop(), ses?.stop()]);
  });

  // Loads the bundle, as Lambda's init phase does, and calls its handler with each event in
  // turn, one container serving them all; prints what each call came out with as JSON.
  // The exit ends the SDK's keep-alive sockets, which Lambda would freeze instead. The
  // bundle's AWS calls go to the run's call log (infra/least-privilege.spec.ts).
  const INVOKE = `${childProcessRecorder()}
const { randomUUID } = require('node:crypto');
const [file, events] = process.argv.slice(1);
const refused = () => { throw new Error('Callback-style completion is not supported'); };
const context = () => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bundle-test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:' + process.env.AWS_REGION + ':000000000000:function:bundle-test',
  memoryLimitInMB: '128',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/bundle-test',
  logStreamName: 'bundle-test',
  getRemainingTimeInMillis: () => 10000,
  done: refused, fail: refused, succeed: refused,
});
const report = (outcomes) => process.stdout.write(JSON.stringify(outcomes), () => process.exit(0));
(async () => {
  const outcomes = [];
  for (const event of JSON.parse(events)) {
    outcomes.push(
      await Promise.resolve()
        .then(() => require(file).handler(event, context()))
        .then(
          (value) => ({ value: value === undefined ? null : value }),
          (error) => ({ error: { name: String(error?.name), message: String(error?.message) } }),
        ),
    );
  }
  return outcomes;
})().then(report);`;

  /**
   * The function's environment as the template sets it, with what CloudFormation fills in
   * at deploy time taken from this test, plus what Lambda sets (region, credentials) and
   * `local`: the local endpoints, and whatever else the test changes.
   */
  function environmentOf(
    fn: NodejsFunction,
    local: Record<string, string>,
  ): Record<string, string> {
    const { users, userEmails, sessions, rateLimits } = tables.config.dynamodb.tables;
    const deployTime: Record<string, string> = {
      USER_TABLE_NAME: users,
      USER_EMAIL_TABLE_NAME: userEmails,
      SESSION_TABLE_NAME: sessions,
      RATE_LIMIT_TABLE_NAME: rateLimits,
      // The API's URL: its default endpoint, the custom URL parameter left empty
      PUBLIC_BASE_URL: HTTP_API_URL,
      FROM_ADDRESS,
      // `<API URL>/activate,<ExtraActivationUrlBases>`, the parameter left empty
      ACTIVATION_URL_BASES: `${ACTIVATION_URL_BASE},`,
    };
    const variables = (resourceOf(fn).Properties.Environment as { Variables: Json }).Variables;
    return {
      PATH: process.env.PATH ?? '',
      AWS_REGION: tables.config.dynamodb.region,
      // Dummy keys, in the letters and digits DynamoDB Local accepts
      AWS_ACCESS_KEY_ID: 'bundletest',
      AWS_SECRET_ACCESS_KEY: 'bundletest',
      [AWS_CALL_LOG_VARIABLE]: process.env[AWS_CALL_LOG_VARIABLE] ?? '',
      ...deployedEnvironment(variables, deployTime),
      ...local,
    };
  }

  /** Runs `events` through one fresh Node process (one cold start), in order. */
  async function invokeAll(
    fn: NodejsFunction,
    events: readonly unknown[],
    local: Record<string, string>,
  ): Promise<Invocation[]> {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['-e', INVOKE, join(bundleDir(fn), 'index.js'), JSON.stringify(events)],
      { env: environmentOf(fn, local), cwd: tmpdir(), timeout: 15_000 },
    ).catch((error: unknown) => {
      // Not the whole command line (the script and every event): how it ended, and what it said.
      const failed = error as {
        code?: unknown;
        signal?: unknown;
        stdout?: string;
        stderr?: string;
      };
      throw new Error(
        `The bundle's process failed (exit code ${String(failed.code)}, signal ${String(failed.signal)}).\nstdout: ${failed.stdout}\nstderr: ${failed.stderr}`,
      );
    });
    let outcomes: Invocation[] | undefined;
    try {
      outcomes = JSON.parse(stdout) as Invocation[];
    } catch {
      // reported below
    }
    if (outcomes?.length !== events.length) {
      throw new Error(`The bundle printed no outcomes.\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
    return outcomes;
  }

  /** A pipeline function, which reads its local endpoints from the config's own variables. */
  async function invoke(fn: NodejsFunction, event: unknown): Promise<Invocation> {
    const [outcome] = await invokeAll(fn, [event], {
      NODE_PATH: join(REPO_ROOT, 'node_modules'),
      DYNAMODB_ENDPOINT: tables.config.dynamodb.endpoint ?? '',
      SES_ENDPOINT: ses.endpoint,
    });
    return outcome!;
  }

  it('send-activation-mail rejects a user whose claim is held with ActivationMailInProgressError', async () => {
    const user = newUser();
    await tables.users.create(user);
    const now = new Date();
    const held = await tables.users.claimActivationMail(user.username, {
      claimId: 'another-attempt',
      tokenHash: mintActivationToken().hash,
      tokenExpiresAt: new Date(now.getTime() + 3600_000).toISOString(),
      leaseExpiresAt: new Date(now.getTime() + 600_000).toISOString(),
      now: now.toISOString(),
    });
    expect(held).toEqual({ claimed: true });

    const outcome = await invoke(stack.functions.sendActivationMail, { username: user.username });

    // The exact name the state machine's Retry matches; a minified class name fails here.
    expect(outcome.error?.name).toBe('ActivationMailInProgressError');
    expect(outcome.error?.message).toContain(user.username);
    expect(await ses.mailsTo(user.email)).toHaveLength(0);
    expect(await tables.users.findByUsername(user.username)).toMatchObject({
      activationStatus: ActivationStatus.NONE,
      mailClaimId: 'another-attempt',
    });
  });

  it('send-activation-mail mails a NONE user once and answers OK, records MAIL_SENT when told; get-activation-status sees it', async () => {
    const user = newUser();
    await tables.users.create(user);

    const outcome = await invoke(stack.functions.sendActivationMail, { username: user.username });
    const recorded = await invoke(stack.functions.sendActivationMail, {
      username: user.username,
      mailed: 'value' in outcome ? outcome.value : undefined,
    });

    expect(outcome).toEqual({
      value: { result: 'OK', claimId: expect.any(String), sentAt: expect.any(String) },
    });
    expect(recorded).toEqual({ value: { result: 'RECORDED' } });
    const mails = await ses.mailsTo(user.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ from: FROM_ADDRESS, subject: ACTIVATION_MAIL_SUBJECT });
    const token = /[?&]token=([^&\s]+)/.exec(mails[0]?.body.text ?? '')?.[1] ?? '';
    expect(await tables.users.findByUsername(user.username)).toMatchObject({
      activationStatus: ActivationStatus.MAIL_SENT,
      activationTokenHash: hashActivationToken(decodeURIComponent(token)),
    });
    await expect(
      invoke(stack.functions.getActivationStatus, { username: user.username }),
    ).resolves.toEqual({ value: ActivationStatus.MAIL_SENT });
  });

  /**
   * The API as `cdk deploy` ships it: esbuild's bundle of tsc's build (API_ENTRY), which
   * must still carry the decorator metadata (`design:paramtypes`) tsc emitted. Without it,
   * Nest knows neither a route's DTO class, so ValidationPipe lets every body through, nor
   * a constructor's dependencies. One cold start serves the whole sequence, in order: each
   * call sees what the ones before it wrote. (Tried: a build without any metadata fails the
   * bootstrap, Nest ending the process; one without `register`'s alone answers the first
   * event with the username error only, the unknown field let through.)
   */
  describe('the API bundle, on HTTP API events (payload format 2.0)', () => {
    const registration = newRegistration();
    const credentials = { username: registration.username, password: registration.password };
    const invalid = {
      ...registration,
      username: 'Al',
      // No DTO declares it: refused only by a ValidationPipe that knows the route's DTO
      // class. The core checks the username again itself, so 'Al' alone proves nothing.
      nickname: 'Ada',
    };
    let results: ApiResult[];

    beforeAll(async () => {
      const outcomes = await invokeAll(
        stack.functions.api,
        [
          httpApiEvent(jsonPost('/users', invalid)),
          httpApiEvent(jsonPost('/users', registration)),
          // Another password: with the account's own, a pending username is the typo fix.
          httpApiEvent(
            jsonPost('/users', {
              ...registration,
              email: `2.${registration.email}`,
              password: 'another password 123',
            }),
          ),
          httpApiEvent({
            method: 'GET',
            path: '/activate',
            query: new URLSearchParams({
              username: registration.username,
              token: mintActivationToken().token,
            }).toString(),
          }),
          httpApiEvent(jsonPost('/login', credentials)),
          httpApiEvent({ method: 'GET', path: '/openapi.json' }),
          httpApiEvent({ method: 'GET', path: '/docs' }),
          httpApiEvent({ method: 'GET', path: '/' }),
          httpApiEvent({ method: 'GET', path: '/assets/site.css', query: `v=${STYLESHEET.hash}` }),
        ],
        {
          // The SDK's own endpoint variable: aws mode refuses DYNAMODB_ENDPOINT.
          AWS_ENDPOINT_URL_DYNAMODB: tables.config.dynamodb.endpoint ?? '',
          // The template says info; the child's stdout is for the outcomes.
          LOG_LEVEL: 'silent',
          // No NODE_PATH: the API bundle must need nothing from a node_modules.
        },
      );
      results = outcomes.map((outcome, index) => {
        if (outcome.error) {
          throw new Error(`event ${index}: ${outcome.error.name}: ${outcome.error.message}`);
        }
        return outcome.value as ApiResult;
      });
    }, 30_000);

    const json = (result: ApiResult | undefined) => {
      expect(result?.headers?.['content-type']).toMatch(/^application\/json/);
      return JSON.parse(result?.body ?? '') as Json;
    };

    it('refuses an invalid body with 400 VALIDATION_FAILED, naming the unknown field too (the DTO metadata survived)', () => {
      const [result] = results;

      expect(result?.statusCode).toBe(400);
      const body = json(result);
      expect(body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(body.errors).toEqual(
        expect.arrayContaining([
          { field: 'username', messages: ['username must be 3 to 32 characters long'] },
          { field: 'nickname', messages: ['property nickname should not exist'] },
        ]),
      );
      expect(body.errors).toHaveLength(2);
    });

    it('registers a valid body: 201, the public user, the user in the User table', async () => {
      const result = results[1];

      expect(result?.statusCode).toBe(201);
      expect(json(result)).toEqual({
        username: registration.username,
        email: registration.email,
        name: registration.name,
        activationStatus: ActivationStatus.NONE,
      });
      expect(await tables.users.findByUsername(registration.username)).toMatchObject({
        username: registration.username,
        email: registration.email,
        activationStatus: ActivationStatus.NONE,
        activationUrlBase: `${HTTP_API_URL}/activate`,
      });
    });

    it('refuses the same username again with 409 USERNAME_TAKEN', () => {
      const result = results[2];

      expect(result?.statusCode).toBe(409);
      expect(json(result)).toMatchObject({ statusCode: 409, code: 'USERNAME_TAKEN' });
    });

    it("serves the activation link's page: 200 text/html with the page's own CSP", () => {
      const result = results[3];

      expect(result?.statusCode).toBe(200);
      expect(result?.isBase64Encoded).toBe(false);
      expect(result?.headers?.['content-type']).toMatch(/^text\/html/);
      expect(result?.headers?.['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
      expect(result?.body).toContain(`<button type="submit">${ACTIVATE_BUTTON_LABEL}</button>`);
    });

    it('refuses sign-in before activation with 403 ACCOUNT_NOT_ACTIVATED and no cookie', () => {
      const result = results[4];

      expect(result?.statusCode).toBe(403);
      expect(json(result)).toMatchObject({ statusCode: 403, code: 'ACCOUNT_NOT_ACTIVATED' });
      expect(result?.cookies).toBeUndefined();
    });

    it('serves its OpenAPI document (API_DOCS is json on Lambda), and no Swagger UI', () => {
      const [document, docs] = [results[5], results[6]];

      expect(document?.statusCode).toBe(200);
      expect(json(document)).toMatchObject({
        openapi: '3.1.0',
        paths: { '/users': { post: { operationId: 'registerUser' } } },
        components: { securitySchemes: { session: { name: '__Host-card_store_session' } } },
      });
      expect(docs?.statusCode).toBe(404);
    });

    it('renders the start page from the templates beside the bundle, and serves its stylesheet', () => {
      const [page, stylesheet] = [results[7], results[8]];

      expect(page?.statusCode).toBe(200);
      expect(page?.headers?.['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
      expect(page?.body).toContain(`<link rel="stylesheet" href="./${STYLESHEET.path}">`);
      expect(page?.body).toContain('<form method="post" action="./login" novalidate>');
      expect(stylesheet?.statusCode).toBe(200);
      expect(stylesheet?.headers?.['content-type']).toBe('text/css; charset=utf-8');
      expect(stylesheet?.headers?.['cache-control']).toBe(IMMUTABLE);
      expect(stylesheet?.body).toBe(STYLESHEET.body);
    });
  });
});
