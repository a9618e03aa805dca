// Runs TypeScript the way jest does (@swc/core, with the options of jest.config.js):
// with the decorator metadata (`design:type`, `design:paramtypes`) that Nest and
// @nestjs/swagger read and that tsx (esbuild) cannot emit. For scripts that build the app
// without a `npm run build`: `node --import ./scripts/swc-loader.mjs scripts/x.ts`.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const isRelative = (specifier) => specifier.startsWith('./') || specifier.startsWith('../');

registerHooks({
  // `import './x'` in our TypeScript means ./x.ts or ./x/index.ts, as tsc resolves it.
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!isRelative(specifier) || !context.parentURL?.endsWith('.ts')) throw error;
      for (const candidate of [`${specifier}.ts`, `${specifier}/index.ts`]) {
        try {
          return nextResolve(candidate, context);
        } catch {
          // the next candidate
        }
      }
      throw error;
    }
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const filename = fileURLToPath(url);
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...OPTIONS, filename });
    return { format: 'commonjs', source: code, shortCircuit: true };
  },
});
