/**
 * A Lambda's environment, read once when the handler is built and validated: a missing or
 * bad variable stops the function at start-up with a message naming every such variable,
 * never a silent `process.env.X || ''`. Local mode passes the same variables, plus the
 * optional `*_ENDPOINT` ones.
 */

/** A variable's rule: turns the raw value into a typed one or throws EnvProblem. */
export interface EnvVariable<T> {
  parse(raw: string | undefined): T;
}

/** One variable's problem; readLambdaEnv prefixes the variable's name and what it got. */
export class EnvProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvProblem';
  }
}

export class LambdaEnvError extends Error {
  readonly code = 'INVALID_LAMBDA_ENVIRONMENT';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Lambda environment:\n  - ${problems.join('\n  - ')}`);
    this.name = 'LambdaEnvError';
  }
}

export type LambdaEnv = Readonly<Record<string, string | undefined>>;

type Parsed<S> = { readonly [K in keyof S]: S[K] extends EnvVariable<infer T> ? T : never };

/** @throws LambdaEnvError naming every missing or bad variable of `spec` */
export function readLambdaEnv<S extends Record<string, EnvVariable<unknown>>>(
  env: LambdaEnv,
  spec: S,
): Parsed<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name];
    try {
      values[name] = variable.parse(raw === undefined || raw.trim() === '' ? undefined : raw);
    } catch (error) {
      if (!(error instanceof EnvProblem)) throw error;
      problems.push(`${name} ${error.message} (got ${JSON.stringify(raw ?? '')})`);
    }
  }
  if (problems.length > 0) throw new LambdaEnvError(problems);
  return values as Parsed<S>;
}

function present(raw: string | undefined): string {
  if (raw === undefined) throw new EnvProblem('is required');
  return raw.trim();
}

const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** A required value matching `pattern`; `description` completes "must be ...". */
export function requiredText(pattern: RegExp, description: string): EnvVariable<string> {
  return {
    parse(raw) {
      const value = present(raw);
      if (!pattern.test(value)) throw new EnvProblem(`must be ${description}`);
      return value;
    },
  };
}

/** Lambda sets AWS_REGION itself; local mode passes the app's region. */
export const awsRegion = requiredText(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');

/** A DynamoDB table name. */
export const tableName = requiredText(
  /^[A-Za-z0-9_.-]{3,255}$/,
  '3-255 characters of A-Z, a-z, 0-9, "_", "-", "."',
);

/** An optional http(s) endpoint (local mode); unset means "the AWS service". */
export const optionalEndpoint: EnvVariable<string | undefined> = {
  parse(raw) {
    if (raw === undefined) return undefined;
    const value = raw.trim();
    if (!HTTP_URL.test(value)) {
      throw new EnvProblem('must be an absolute http(s) URL without query or fragment');
    }
    return withoutTrailingSlash(value);
  },
};

/** A comma-separated list of at least one http(s) URL (no query, no fragment). */
export const urlList: EnvVariable<readonly string[]> = {
  parse(raw) {
    const values = present(raw)
      .split(',')
      .map((value) => value.trim())
      .filter((value) => value !== '');
    if (values.length === 0 || !values.every((value) => HTTP_URL.test(value))) {
      throw new EnvProblem(
        'must be a comma-separated list of absolute http(s) URLs without query or fragment',
      );
    }
    return values.map(withoutTrailingSlash);
  },
};

/** An integer in [min, max]; `defaultValue` when unset. */
export function integer(options: {
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
}): EnvVariable<number> {
  return {
    parse(raw) {
      if (raw === undefined) return options.defaultValue;
      const value = raw.trim();
      if (!/^\d+$/.test(value) || Number(value) < options.min || Number(value) > options.max) {
        throw new EnvProblem(`must be an integer from ${options.min} to ${options.max}`);
      }
      return Number(value);
    },
  };
}

/** `variable` when set, else undefined. */
export function optional<T>(variable: EnvVariable<T>): EnvVariable<T | undefined> {
  return { parse: (raw) => (raw === undefined ? undefined : variable.parse(raw)) };
}
