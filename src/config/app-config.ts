/**
 * The app's configuration, read from the environment once at start-up and validated:
 * a bad or missing value stops the process with a message naming the variable, never a
 * silent fallback like `process.env.X || ''`.
 */
import { plainToInstance, Transform } from 'class-transformer';
import { SENDER_ADDRESS_PATTERN } from '../activation/activation-mail';
import { MAX_ACTIVATION_MAIL_LEASE_SECONDS } from '../activation/send-activation-mail.service';
import {
  parseRateLimit,
  RATE_LIMIT_DEFAULTS,
  RATE_LIMIT_NAMES,
  RATE_LIMIT_PATTERN,
  RATE_LIMIT_VARIABLES,
  type RateLimitName,
  type RateLimitPolicy,
} from '../platform/rate-limits/rate-limit-policies';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
  type ValidationError,
} from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MODES = ['local', 'aws'] as const;
/** `local`: embedded stand-ins, no cloud account. `aws`: the real services of AWS_REGION. */
export type Mode = (typeof MODES)[number];

/**
 * What the API serves about itself (src/platform/openapi): `ui` the OpenAPI document at
 * `GET /openapi.json` and Swagger UI at `GET /docs`, `json` the document only, `off`
 * neither. Default: `ui` in local mode, `json` in aws mode. The API Lambda's bundle has
 * no Swagger UI assets, so on Lambda `ui` is refused (src/lambda-handler.ts).
 */
const API_DOCS = ['ui', 'json', 'off'] as const;
export type ApiDocs = (typeof API_DOCS)[number];

/** Point a client at a local stand-in; in aws mode each must be unset. */
const LOCAL_ENDPOINT_VARIABLES = ['DYNAMODB_ENDPOINT', 'SFN_ENDPOINT', 'SES_ENDPOINT'] as const;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TABLE_NAME_MESSAGE = '$property must be 3-255 characters of A-Z, a-z, 0-9, "_", "-", "."';
const HTTP_URL = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
const HTTP_URL_MESSAGE = '$property must be an absolute http(s) URL without query or fragment';

const MAIL_ADDRESS_MESSAGE =
  '$property must be an address like no-reply@example.org or "Name <no-reply@example.org>"';
const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const STATE_MACHINE_NAME_MESSAGE = '$property must be 1-80 characters of A-Z, a-z, 0-9, "-", "_"';

const RATE_LIMIT_MESSAGE =
  '$property must be <count>/<window> with a window in s, m, h or d, such as 5/15m';
const MAX_RATE_LIMIT_SCALE = 1_000_000;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
const toDecimal = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * The environment variables, with their defaults. docs/configuration.md's table mirrors this.
 * class-validator checks a property's rules from the bottom decorator up and reports the
 * first broken one, so the type check sits lowest.
 */
class EnvironmentVariables {
  @IsIn(MODES)
  CARD_STORE_MODE: Mode = 'local';

  @IsString()
  @Matches(/^\S+$/, { message: '$property must be a host name or IP address' })
  HOST = '127.0.0.1';

  @Transform(toInt)
  @Min(1)
  @Max(65_535)
  @IsInt({ message: '$property must be an integer' })
  PORT = 3000;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: HTTP_URL_MESSAGE })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(API_DOCS)
  API_DOCS?: ApiDocs;

  @IsString()
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d$/, {
    message: '$property must be an AWS region such as eu-west-1',
  })
  AWS_REGION = 'us-east-1';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: HTTP_URL_MESSAGE })
  DYNAMODB_ENDPOINT?: string;

  @Transform(toInt)
  @Min(1)
  @Max(65_535)
  @IsInt({ message: '$property must be an integer' })
  DYNAMODB_LOCAL_PORT = 8000;

  @IsString()
  @Matches(/\S/, { message: '$property must not be empty' })
  LOCAL_DATA_DIR = '.local-data';

  @Matches(TABLE_NAME, { message: TABLE_NAME_MESSAGE })
  USER_TABLE_NAME = 'User';

  @Matches(TABLE_NAME, { message: TABLE_NAME_MESSAGE })
  USER_EMAIL_TABLE_NAME = 'UserEmail';

  @Matches(TABLE_NAME, { message: TABLE_NAME_MESSAGE })
  SESSION_TABLE_NAME = 'UserSession';

  @Matches(TABLE_NAME, { message: TABLE_NAME_MESSAGE })
  RATE_LIMIT_TABLE_NAME = 'RateLimit';

  /**
   * Multiplies every rate limit's count: for load tests and benches that send thousands
   * of requests from one loopback address. Refused in aws mode unless
   * ALLOW_RATE_LIMIT_SCALE_IN_AWS=true says it is meant.
   */
  @Transform(toInt)
  @Min(1)
  @Max(MAX_RATE_LIMIT_SCALE)
  @IsInt({ message: '$property must be an integer' })
  RATE_LIMIT_SCALE = 1;

  @IsIn(['true', 'false'])
  ALLOW_RATE_LIMIT_SCALE_IN_AWS = 'false';

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS = RATE_LIMIT_DEFAULTS['login-account-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_LOGIN_PER_ACCOUNT = RATE_LIMIT_DEFAULTS['login-account'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_LOGIN_PER_ADDRESS = RATE_LIMIT_DEFAULTS['login-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_REGISTER_PER_ADDRESS = RATE_LIMIT_DEFAULTS['register-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_ACTIVATE_PER_ADDRESS = RATE_LIMIT_DEFAULTS['activate-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_ACTIVATE_PER_ACCOUNT = RATE_LIMIT_DEFAULTS['activate-account'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_MAIL_COOLDOWN = RATE_LIMIT_DEFAULTS['mail-cooldown'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_MAIL_PER_DAY = RATE_LIMIT_DEFAULTS['mail-daily'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_MAIL_PER_ADDRESS = RATE_LIMIT_DEFAULTS['mail-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS = RATE_LIMIT_DEFAULTS['password-reset-address'].value;

  @Matches(RATE_LIMIT_PATTERN, { message: RATE_LIMIT_MESSAGE })
  RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT = RATE_LIMIT_DEFAULTS['password-reset-account'].value;

  @Transform(toInt)
  @Min(60)
  @Max(30 * 24 * 3600)
  @IsInt({ message: '$property must be an integer' })
  SESSION_TTL_SECONDS = 12 * 3600;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsString()
  @Matches(SENDER_ADDRESS_PATTERN, { message: MAIL_ADDRESS_MESSAGE })
  FROM_ADDRESS = 'Digital Card Store <no-reply@card-store.example>';

  @Transform(toInt)
  @Min(300)
  @Max(30 * 24 * 3600)
  @IsInt({ message: '$property must be an integer' })
  ACTIVATION_TOKEN_TTL_SECONDS = 72 * 3600;

  /** How long a password-reset link works (OWASP: short; one hour by default). */
  @Transform(toInt)
  @Min(300)
  @Max(24 * 3600)
  @IsInt({ message: '$property must be an integer' })
  PASSWORD_RESET_TOKEN_TTL_SECONDS = 3600;

  /**
   * How long an account may stay pending (never activated) before it is gone: its
   * username and address are free again, and DynamoDB's TTL deletes its items.
   */
  @Transform(toInt)
  @Min(1)
  @Max(365 * 24 * 3600)
  @IsInt({ message: '$property must be an integer' })
  PENDING_ACCOUNT_TTL_SECONDS = 7 * 24 * 3600;

  /** Bounded so that a claim frees up before the state machine's retries run out. */
  @Transform(toInt)
  @Min(5)
  @Max(MAX_ACTIVATION_MAIL_LEASE_SECONDS)
  @IsInt({ message: '$property must be an integer' })
  ACTIVATION_MAIL_LEASE_SECONDS = 60;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: HTTP_URL_MESSAGE })
  SFN_ENDPOINT?: string;

  @Transform(toInt)
  @Min(1)
  @Max(65_535)
  @IsInt({ message: '$property must be an integer' })
  SFN_LOCAL_PORT = 8083;

  @Matches(STATE_MACHINE_NAME, { message: STATE_MACHINE_NAME_MESSAGE })
  STATE_MACHINE_NAME = 'SF_CardStore_SendUserActivationMail';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(HTTP_URL, { message: HTTP_URL_MESSAGE })
  SES_ENDPOINT?: string;

  @Transform(toInt)
  @Min(1)
  @Max(65_535)
  @IsInt({ message: '$property must be an integer' })
  SES_LOCAL_PORT = 8005;

  /**
   * A fault knob of the local SES, off by default: the share of SendEmail calls it refuses
   * with SES's `Throttling` error (0.3 refuses about 30 %). For the fault suite and for
   * trying the pipeline's retries by hand; the embedded SES only.
   */
  @Transform(toDecimal)
  @Min(0)
  @Max(1)
  @IsNumber({}, { message: '$property must be a number from 0 to 1' })
  SES_LOCAL_THROTTLE_RATE = 0;
}

export interface TableNames {
  readonly users: string;
  readonly userEmails: string;
  readonly sessions: string;
  readonly rateLimits: string;
}

export interface AppConfig {
  /** aws mode never has an endpoint of a local stand-in and never a default region. */
  readonly mode: Mode;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Where people reach this API, without a trailing slash. */
    readonly publicBaseUrl: string;
    /** `publicBaseUrl + "/activate"`: stored on each user, used in activation mails. */
    readonly activationUrlBase: string;
    /** Whether `GET /openapi.json` and `GET /docs` are served (API_DOCS). */
    readonly apiDocs: ApiDocs;
  };
  readonly dynamodb: {
    readonly region: string;
    /**
     * An existing DynamoDB (Local) to use. Unset: local mode starts an embedded one, aws
     * mode uses the region's DynamoDB with the default credential chain.
     */
    readonly endpoint?: string;
    readonly localPort: number;
    readonly tables: TableNames;
  };
  readonly localDataDir: string;
  readonly session: {
    readonly ttlSeconds: number;
    /** Cookies get `Secure` when the public URL is https. */
    readonly secureCookie: boolean;
  };
  readonly logLevel: LogLevel;
  readonly activation: {
    /** SES Source of activation mails. */
    readonly fromAddress: string;
    readonly tokenTtlSeconds: number;
    /** How long a password-reset link works. */
    readonly passwordResetTokenTtlSeconds: number;
    /** How long one send attempt owns the right to mail a user (see SendActivationMailService). */
    readonly claimLeaseSeconds: number;
    /** How long an account may stay pending before it counts as absent. */
    readonly pendingAccountTtlSeconds: number;
  };
  readonly stepFunctions: {
    /** An existing Step Functions endpoint; unset in local mode: start the embedded one. */
    readonly endpoint?: string;
    readonly localPort: number;
    readonly stateMachineName: string;
  };
  readonly rateLimits: {
    /** Each limit, RATE_LIMIT_SCALE applied. */
    readonly policies: Readonly<Record<RateLimitName, RateLimitPolicy>>;
    readonly scale: number;
  };
  readonly ses: {
    /** An existing SES endpoint; unset in local mode: start the embedded one. */
    readonly endpoint?: string;
    readonly localPort: number;
    /** The share of sends the embedded SES refuses with Throttling (a fault knob). */
    readonly localThrottleRate: number;
  };
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIGURATION';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[], env: NodeJS.ProcessEnv): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map(
      (message) => `${message} (got ${JSON.stringify(env[error.property] ?? '')})`,
    ),
  );
}

/**
 * What aws mode adds to the rules: no endpoint of a local stand-in (a leftover
 * DYNAMODB_ENDPOINT would send the API's traffic to a laptop's DynamoDB Local instead of
 * the deployed tables), and a region chosen on purpose rather than a silent us-east-1,
 * where tables of the same name may well exist. Variables that already broke a rule are
 * skipped: one problem per variable.
 */
function awsModeProblems(
  vars: EnvironmentVariables,
  env: NodeJS.ProcessEnv,
  invalid: ReadonlySet<string>,
): string[] {
  const problems = LOCAL_ENDPOINT_VARIABLES.filter(
    (name) => vars[name] !== undefined && !invalid.has(name),
  ).map(
    (name) =>
      `${name} is for local mode only; unset it with CARD_STORE_MODE=aws (got ${JSON.stringify(env[name])})`,
  );
  if (
    vars.RATE_LIMIT_SCALE !== 1 &&
    vars.ALLOW_RATE_LIMIT_SCALE_IN_AWS !== 'true' &&
    !invalid.has('RATE_LIMIT_SCALE')
  ) {
    problems.push(
      `RATE_LIMIT_SCALE raises every rate limit and is for load tests; with CARD_STORE_MODE=aws it needs ALLOW_RATE_LIMIT_SCALE_IN_AWS=true as well (got ${JSON.stringify(env.RATE_LIMIT_SCALE)})`,
    );
  }
  if (env.AWS_REGION === undefined) {
    problems.push(
      'AWS_REGION must be set with CARD_STORE_MODE=aws: aws mode has no default region (got "")',
    );
  }
  return problems;
}

function rateLimitPolicies(
  vars: EnvironmentVariables,
): Readonly<Record<RateLimitName, RateLimitPolicy>> {
  return Object.fromEntries(
    RATE_LIMIT_NAMES.map((name) => {
      const value = vars[RATE_LIMIT_VARIABLES[name] as keyof EnvironmentVariables] as string;
      return [name, parseRateLimit(value, RATE_LIMIT_DEFAULTS[name].key, vars.RATE_LIMIT_SCALE)];
    }),
  ) as Record<RateLimitName, RateLimitPolicy>;
}

/** Reads and validates the configuration. @throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const defined = Object.fromEntries(
    Object.entries(env).filter(([key]) => key in new EnvironmentVariables()),
  );
  const vars = plainToInstance(EnvironmentVariables, defined, { exposeDefaultValues: true });
  const errors = validateSync(vars, { forbidUnknownValues: true, stopAtFirstError: true });
  const problems = [
    ...describe(errors, env),
    ...(vars.CARD_STORE_MODE === 'aws'
      ? awsModeProblems(vars, env, new Set(errors.map((error) => error.property)))
      : []),
  ];
  if (problems.length > 0) throw new ConfigError(problems);

  const publicBaseUrl = (vars.PUBLIC_BASE_URL ?? `http://localhost:${vars.PORT}`).replace(
    /\/+$/,
    '',
  );
  return {
    mode: vars.CARD_STORE_MODE,
    http: {
      host: vars.HOST,
      port: vars.PORT,
      publicBaseUrl,
      activationUrlBase: `${publicBaseUrl}/activate`,
      apiDocs: vars.API_DOCS ?? (vars.CARD_STORE_MODE === 'local' ? 'ui' : 'json'),
    },
    dynamodb: {
      region: vars.AWS_REGION,
      endpoint: vars.DYNAMODB_ENDPOINT?.replace(/\/+$/, ''),
      localPort: vars.DYNAMODB_LOCAL_PORT,
      tables: {
        users: vars.USER_TABLE_NAME,
        userEmails: vars.USER_EMAIL_TABLE_NAME,
        sessions: vars.SESSION_TABLE_NAME,
        rateLimits: vars.RATE_LIMIT_TABLE_NAME,
      },
    },
    localDataDir: vars.LOCAL_DATA_DIR,
    session: {
      ttlSeconds: vars.SESSION_TTL_SECONDS,
      secureCookie: publicBaseUrl.startsWith('https://'),
    },
    logLevel: vars.LOG_LEVEL,
    activation: {
      fromAddress: vars.FROM_ADDRESS,
      tokenTtlSeconds: vars.ACTIVATION_TOKEN_TTL_SECONDS,
      passwordResetTokenTtlSeconds: vars.PASSWORD_RESET_TOKEN_TTL_SECONDS,
      claimLeaseSeconds: vars.ACTIVATION_MAIL_LEASE_SECONDS,
      pendingAccountTtlSeconds: vars.PENDING_ACCOUNT_TTL_SECONDS,
    },
    stepFunctions: {
      endpoint: vars.SFN_ENDPOINT?.replace(/\/+$/, ''),
      localPort: vars.SFN_LOCAL_PORT,
      stateMachineName: vars.STATE_MACHINE_NAME,
    },
    rateLimits: {
      policies: rateLimitPolicies(vars),
      scale: vars.RATE_LIMIT_SCALE,
    },
    ses: {
      endpoint: vars.SES_ENDPOINT?.replace(/\/+$/, ''),
      localPort: vars.SES_LOCAL_PORT,
      localThrottleRate: vars.SES_LOCAL_THROTTLE_RATE,
    },
  };
}

/** DI token of the validated AppConfig in the Nest app. */
export const APP_CONFIG = Symbol('APP_CONFIG');
