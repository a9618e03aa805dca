// Measures the Lambda bundles exactly as they deploy: runs `cdk synth` (the stack's
// NodejsFunction bundling, infra/lambda-bundling.ts) into a temporary folder, then for each
// function prints
// - the bundle's size (index.js; its source map beside it) and the zip Lambda would get,
// - its module init time: `require` of the bundle in a fresh Node process, as a cold start
//   does after the runtime is up, with the function's environment (NODE_OPTIONS
//   --enable-source-maps where the stack sets it); for the API also the time until Nest
//   is bootstrapped.
// Budgets (issue 4): pipeline bundles <= 300 KB and <= 150 ms init; API goal <= 600 ms.
// Run: npm run bench:bundles (builds first). BENCH_RUNS (default 15) cold starts each.
// This machine is x86-64 and shared; Lambda runs arm64: compare as ratios.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const KB = 1000;
const BUDGET = { pipelineBytes: 300 * KB, pipelineInitMs: 150, apiInitMs: 600 };

/** Deploy-time values for what the template leaves to CloudFormation. */
const PLAUSIBLE = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  USER_TABLE_NAME: 'CardStore-UserTable-1ABC',
  USER_EMAIL_TABLE_NAME: 'CardStore-UserEmailTable-1ABC',
  SESSION_TABLE_NAME: 'CardStore-UserSessionTable-1ABC',
  STEP_FUNCTION_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:SendUserActivationMail',
  FROM_ADDRESS: 'Digital Card Store <no-reply@example.org>',
  ACTIVATION_URL_BASES: 'https://abc123.execute-api.eu-west-1.amazonaws.com/activate',
  PUBLIC_BASE_URL: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
};

// Runs in the fresh process: times the require and, if the module offers one, readiness.
const COLD_START = `
const t0 = performance.now();
const mod = require(process.argv[1]);
const loaded = performance.now();
Promise.resolve(typeof mod.ready === 'function' ? mod.ready() : undefined).then(() => {
  process.stdout.write(JSON.stringify({ loadMs: loaded - t0, readyMs: performance.now() - t0 }));
  process.exit(0);
});`;

function synth(outdir) {
  execFileSync(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '-o', outdir], {
    cwd: ROOT,
    // as under npm run: cdk.json's tsx, and the Node 24 it runs on, from node_modules/.bin
    env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [templateFile] = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
  return JSON.parse(readFileSync(join(outdir, templateFile), 'utf8'));
}

/** What Lambda's zip would weigh: the files deflated (zip adds ~100 bytes per entry). */
function zipBytes(dir) {
  return readdirSync(dir).reduce(
    (sum, file) => sum + deflateRawSync(readFileSync(join(dir, file)), { level: 9 }).length + 100,
    0,
  );
}

function environmentOf(fn) {
  const env = { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), ...PLAUSIBLE };
  for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
    env[name] = typeof value === 'string' ? value : PLAUSIBLE[name];
  }
  return env;
}

function coldStart(entry, env) {
  const run = spawnSync(process.execPath, ['-e', COLD_START, entry], {
    env: { ...env, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`cold start of ${entry} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (value) => `${value.toFixed(0)} ms`;
const kb = (bytes) => `${(bytes / KB).toFixed(1)} KB`;

const outdir = mkdtempSync(join(tmpdir(), 'card-store-bundles-'));
try {
  const started = performance.now();
  const template = synth(outdir);
  process.stdout.write(`cdk synth with bundling: ${ms(performance.now() - started)}\n\n`);

  const rows = [];
  for (const [id, fn] of Object.entries(template.Resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const dir = join(outdir, fn.Metadata['aws:asset:path']);
    const entry = join(dir, 'index.js');
    const isApi = fn.Properties.Environment.Variables.CARD_STORE_MODE === 'aws';
    const env = environmentOf(fn);
    coldStart(entry, env); // warm the disk cache; not counted
    const starts = Array.from({ length: RUNS }, () => coldStart(entry, env));
    const init = starts.map((s) => (isApi ? s.readyMs : s.loadMs));
    const bytes = statSync(entry).size;
    const initP50 = percentile(init, 50);
    const within = isApi
      ? initP50 <= BUDGET.apiInitMs
      : bytes <= BUDGET.pipelineBytes && initP50 <= BUDGET.pipelineInitMs;
    rows.push({
      function: id.replace(/[0-9A-F]{8}$/, ''),
      'index.js': kb(bytes),
      'index.js.map': existsSync(`${entry}.map`) ? kb(statSync(`${entry}.map`).size) : '-',
      zip: kb(zipBytes(dir)),
      'require p50': ms(
        percentile(
          starts.map((s) => s.loadMs),
          50,
        ),
      ),
      'init p50': ms(initP50),
      'init p90': ms(percentile(init, 90)),
      budget: isApi
        ? `goal ${BUDGET.apiInitMs} ms: ${within ? 'met' : 'MISSED'}`
        : `300 KB, 150 ms: ${within ? 'met' : 'OVER'}`,
    });
  }
  console.table(rows);
  process.stdout.write(
    `${RUNS} cold starts each, Node ${process.versions.node}, ${process.arch}. ` +
      'API init = require + Nest bootstrap (ready); pipeline init = require.\n',
  );
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
