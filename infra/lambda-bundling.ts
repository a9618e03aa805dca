/**
 * How every Lambda of the stack is bundled, in one place: the stack hands these options to
 * each NodejsFunction, and `npm run bench:bundles` measures the very bundles `cdk synth`
 * makes with them.
 *
 * - **The AWS SDK clients are bundled**, at the version of our lock file, the one the tests
 *   ran, not whichever the runtime has. One minified file also loads faster than the
 *   runtime's SDK (measured: about 100 ms against 155 ms per cold start, bench:bundles).
 * - **Except the credential providers a Lambda never reaches.** Lambda hands a function its
 *   credentials as environment variables, the first link of the SDK's default chain. The
 *   chain imports the other links (SSO, ini files, web identity, IMDS...) lazily, with
 *   `import()`, only when the links before fail; left out, they cost nothing at start-up
 *   and 100 KB less per bundle, which keeps the pipeline functions under 300 KB.
 * - **Class names are kept** (`keepNames`): the state machine's Retry and Catch match the
 *   error names that DomainError takes from `new.target.name`. A minifier that renamed
 *   `ActivationMailInProgressError` would silently turn its retry off.
 * - **ES module entry points** (`mainFields: module, main`) so that esbuild can drop what a
 *   function does not import; CommonJS packages work as before.
 * - **Source maps** beside the pipeline bundles, without the sources' text, read by Node's
 *   `--enable-source-maps` (set in those functions' environment) for stack traces. They
 *   cost ~15 ms of a pipeline cold start; the API does without (API_BUNDLING).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository's root: where package.json, package-lock.json and dist/ are. */
export const REPO_ROOT = join(__dirname, '..');

/**
 * Given to every NodejsFunction: without it CDK looks for the lock file from the current
 * directory, and a synth started outside the repository fails.
 */
export const LOCK_FILE = join(REPO_ROOT, 'package-lock.json');

/** The Node.js major the functions run on; the bundles target it. */
export const LAMBDA_NODE_MAJOR = 24;

/**
 * Packages Nest imports only when an app uses them (microservices, websockets). The API
 * uses neither, and Nest loads them lazily inside a try, so they stay out of the bundle.
 */
const NEST_OPTIONAL_PACKAGES = ['@nestjs/microservices', '@nestjs/websockets'];

/** What `@aws-sdk/credential-provider-node` imports only after the environment failed. */
const UNREACHED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
];

export const BUNDLING: BundlingOptions = {
  format: OutputFormat.CJS,
  target: `node${LAMBDA_NODE_MAJOR}`,
  mainFields: ['module', 'main'],
  minify: true,
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: [...UNREACHED_CREDENTIAL_PROVIDERS, ...NEST_OPTIONAL_PACKAGES],
  logLevel: LogLevel.WARNING,
};

/** A function with source maps gets this, so that stack traces point into the sources. */
export const SOURCE_MAPS_ENVIRONMENT = { NODE_OPTIONS: '--enable-source-maps' } as const;

/**
 * What @nestjs/swagger imports only for a Fastify app (SwaggerModule's static files); the
 * API is an Express app, and its Lambda serves no Swagger UI anyway (API_DOCS=ui is
 * refused there).
 */
const SWAGGER_FASTIFY_PACKAGES = ['@fastify/static'];

/**
 * `import.meta.url` of the ES modules bundled into the CommonJS bundle: esbuild would make
 * it undefined, and @nestjs/swagger calls `createRequire(import.meta.url)` as it loads,
 * which then throws. Here it is the bundle's own file URL.
 */
const IMPORT_META_URL = '__bundle_import_meta_url';

/** The pages' files (templates, stylesheet), relative to the repository's root. */
export const PAGES_WEB_DIRECTORY = join('src', 'users', 'pages', 'web');

/**
 * The API: the same, without source maps. Node parses a bundle's whole map when it loads
 * the bundle; for the API's 2.8 MB map that was +300 ms on a 500 ms cold start (measured
 * with bench:bundles), for stack traces that keepNames already makes readable
 * (`at UsersController.register`).
 */
export const API_BUNDLING: BundlingOptions = {
  ...BUNDLING,
  // The pages' templates and stylesheet are files the API reads (src/users/pages/page.ts
  // looks beside itself: here, beside index.js).
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => [
      `cp -R "${join(inputDir, PAGES_WEB_DIRECTORY)}" "${join(outputDir, 'web')}"`,
    ],
  },
  sourceMap: false,
  sourcesContent: undefined,
  externalModules: [...(BUNDLING.externalModules ?? []), ...SWAGGER_FASTIFY_PACKAGES],
  define: { 'import.meta.url': IMPORT_META_URL },
  banner: `const ${IMPORT_META_URL}=require("node:url").pathToFileURL(__filename).href;`,
};

/**
 * The API's Lambda entry, from the TypeScript build (`npm run build`), not from src/:
 * Nest needs the decorator metadata (`design:paramtypes`) that tsc emits and esbuild
 * cannot. Without it, Nest would not know a route's DTO class, and ValidationPipe would let
 * every body through unchecked. esbuild follows tsc's source maps back to src/.
 */
export const API_ENTRY = join(REPO_ROOT, 'dist', 'src', 'lambda.js');

export class MissingBuildError extends Error {
  constructor(entry: string) {
    super(`${entry} does not exist: run \`npm run build\` first (npm run synth and deploy do).`);
    this.name = 'MissingBuildError';
  }
}

/** @throws MissingBuildError when the build output is missing */
export function apiEntry(): string {
  if (!existsSync(API_ENTRY)) throw new MissingBuildError(API_ENTRY);
  return API_ENTRY;
}
