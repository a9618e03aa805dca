/**
 * The API as a Lambda behind API Gateway's HTTP API (payload format 2.0): the very Nest app
 * of `npm start` (createApp: body limits, validation, error shape, security headers,
 * logging), its Express instance driven by serverless-express, which turns each event into
 * a request and the response into the v2 result (Set-Cookie into `cookies`).
 *
 * The app is bootstrapped once per container, starting when the handler is built: Lambda
 * runs module code in its init phase, before the first event, with a full CPU. A failed
 * bootstrap is forgotten, so the next invocation tries again instead of the container
 * failing every event until Lambda replaces it.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { configure } from '@codegenie/serverless-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { pino } from 'pino';
import { createApp } from './app.setup';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config';

export type ApiResult = APIGatewayProxyStructuredResultV2;

export interface ApiHandler {
  (event: APIGatewayProxyEventV2, context: Context): Promise<ApiResult>;
  /**
   * Resolves once the app is bootstrapped (starting a new bootstrap if the last one
   * failed); rejects with the bootstrap's error. For tests and the cold-start bench.
   */
  ready(): Promise<void>;
  /** Closes the app (tests; on Lambda the container is frozen and ended instead). */
  close(): Promise<void>;
}

/** For tests only: src/lambda.ts passes none, so nothing in a Lambda's environment can set these. */
export interface ApiHandlerOverrides {
  /**
   * This DynamoDB (Local) instead of the region's, with local credentials. aws mode's
   * config refuses DYNAMODB_ENDPOINT; this is the tests' one way around it.
   */
  readonly dynamodbEndpoint?: string;
  /** Makes the app; default createApp. Lets a test fail a bootstrap. */
  readonly createApp?: (config: AppConfig) => Promise<NestExpressApplication>;
}

interface Booted {
  readonly app: NestExpressApplication;
  readonly proxy: (event: APIGatewayProxyEventV2, context: Context) => Promise<ApiResult>;
}

/**
 * How serverless-express hands a request to Express. Its own way marks the request read
 * (`readable = false`) as soon as Express's synchronous part returns, so a body parser
 * that runs after an await finds the request finished and parses nothing: POST
 * /activate's form parser, an interceptor, would see an empty form
 * (CodeGenieApp/serverless-express#693). Here the hand-over ends when the response does,
 * so the request stays readable for as long as the app may read it.
 */
function untilResponded(express: RequestListener) {
  return {
    sendRequest: ({ request, response }: { request: IncomingMessage; response: ServerResponse }) =>
      new Promise<void>((resolve) => {
        response.once('finish', () => resolve());
        void express(request, response);
      }),
  };
}

/**
 * The configuration a Lambda must have on top of loadConfig's: aws mode (a Lambda has no
 * local stand-ins to talk to), and the API's own https URL, since activation links stored
 * on users and the Secure session cookie come from it, never a localhost default.
 * @throws ConfigError naming every bad variable
 */
function lambdaConfig(env: NodeJS.ProcessEnv): AppConfig {
  const config = loadConfig(env);
  const problems: string[] = [];
  if (config.mode !== 'aws') {
    problems.push(
      `CARD_STORE_MODE must be "aws" on Lambda, where no local stand-in runs (got ${JSON.stringify(env.CARD_STORE_MODE ?? '')})`,
    );
  }
  if (config.http.apiDocs === 'ui') {
    problems.push(
      'API_DOCS=ui is not available on Lambda: the bundle has no Swagger UI assets; use "json" (the default) for GET /openapi.json, or "off"',
    );
  }
  if (!config.http.publicBaseUrl.startsWith('https://')) {
    problems.push(
      `PUBLIC_BASE_URL must be the API's https URL on Lambda: activation links and the session cookie are built from it (got ${JSON.stringify(env.PUBLIC_BASE_URL ?? '')})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Builds the handler and starts the app's bootstrap.
 * @throws ConfigError at once (the cold start fails) when the environment is not a Lambda's
 */
export function createApiHandler(
  env: NodeJS.ProcessEnv,
  overrides: ApiHandlerOverrides = {},
): ApiHandler {
  const loaded = lambdaConfig(env);
  const config: AppConfig = overrides.dynamodbEndpoint
    ? { ...loaded, dynamodb: { ...loaded.dynamodb, endpoint: overrides.dynamodbEndpoint } }
    : loaded;
  const makeApp = overrides.createApp ?? createApp;
  const log = pino({ level: config.logLevel });

  let booting: Promise<Booted> | undefined;

  async function bootstrap(): Promise<Booted> {
    const app = await makeApp(config);
    try {
      await app.init();
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    const express = app.getHttpAdapter().getInstance();
    const proxy = configure<APIGatewayProxyEventV2, ApiResult>({
      app: express,
      framework: untilResponded(express),
      // Never a stack trace in a response, whatever NODE_ENV says.
      respondWithErrors: false,
    });
    return {
      app,
      // serverless-express's handler is async; its type still allows the callback style.
      proxy: (event, context) => proxy(event, context, () => undefined) as Promise<ApiResult>,
    };
  }

  function booted(): Promise<Booted> {
    if (booting) return booting;
    const attempt = bootstrap();
    booting = attempt;
    // Also keeps a failure of the eager start from being an unhandled rejection.
    attempt.catch((error: unknown) => {
      if (booting === attempt) booting = undefined;
      log.error({ err: error }, 'API bootstrap failed; the next invocation tries again');
    });
    return attempt;
  }

  void booted();

  const handler = async (event: APIGatewayProxyEventV2, context: Context) =>
    (await booted()).proxy(event, context);

  return Object.assign(handler, {
    ready: async () => {
      await booted();
    },
    close: async () => {
      const current = booting;
      booting = undefined;
      const app = await current?.then(
        (done) => done.app,
        () => undefined,
      );
      await app?.close();
    },
  });
}
