/**
 * Writes the OpenAPI document (src/platform/openapi/openapi-document.ts) to a file,
 * `reports/openapi.json` (git-ignored) unless given another: the document of an app of
 * this API in the default configuration (local mode), built without starting anything
 * and without a build. Nothing is called: no DynamoDB, no stand-in.
 *
 * `npm run openapi [-- <file>]`; `npm run lint:openapi` writes and lints it. It runs
 * through swc (scripts/swc-loader.mjs), not tsx: Nest and @nestjs/swagger read decorator
 * metadata that esbuild cannot emit.
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/app-config';
import { buildOpenApiDocument } from '../src/platform/openapi/openapi-document';

const DEFAULT_OUTPUT = join(__dirname, '..', 'reports', 'openapi.json');

async function main(): Promise<void> {
  const output = resolve(process.argv[2] ?? DEFAULT_OUTPUT);
  const app = await createApp(loadConfig({ LOG_LEVEL: 'silent' }));
  try {
    const document = buildOpenApiDocument(app);
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
    const operations = Object.values(document.paths).flatMap((item) => Object.keys(item));
    process.stdout.write(
      `OpenAPI ${document.openapi}: ${operations.length} operations written to ${relative(process.cwd(), output)}\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
