/**
 * Everything that turns the Nest application into this API: body limits, validation,
 * error shape, security headers, logging. Shared by the local server, the Lambda handler
 * and the tests, so they all behave alike.
 */
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import type { HttpLogger } from 'pino-http';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { ApiErrorsFilter } from './platform/api-errors.filter';
import { hardenHttpServer } from './platform/http-server';
import { HTTP_LOGGER } from './platform/logging';
import { OpenApiDocumentSource } from './platform/openapi/api-docs.module';
import { dropTrailingSlash } from './platform/trailing-slash';
import { createValidationPipe } from './platform/validation';

/** Largest request body accepted; registrations are a few hundred bytes. */
export const BODY_LIMIT = '16kb';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    // Nest's default parsers include an extended (nested objects) urlencoded one for every
    // route; configureApp registers exactly the parsers this API wants instead.
    bodyParser: false,
    // A failed start (a provider that cannot be resolved) rejects instead of ending the
    // process: main.ts reports it, and the Lambda handler logs it and lets the next
    // invocation try again.
    abortOnError: false,
  });
  configureApp(app);
  // GET /openapi.json serves the document of this very app (built on first request).
  if (config.http.apiDocs !== 'off') app.get(OpenApiDocumentSource).attach(app);
  return app;
}

/**
 * Every answer is about a person or their account, or changes from one moment to the next:
 * none may be kept by a browser or a shared cache, where another person could see it.
 */
function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}

export function configureApp(app: INestApplication & NestExpressApplication): void {
  const httpLogger = app.get<HttpLogger>(HTTP_LOGGER);
  hardenHttpServer(app.getHttpServer(), httpLogger.logger);
  app.use(httpLogger as RequestHandler);
  app.use(noStore);
  app.use(dropTrailingSlash);
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Answers are no-store (noStore): an ETag would only invite a 304 nobody should get. The
  // docs routes, which may be revalidated, set their own (api-docs.module.ts).
  app.disable('etag');
  app.use(helmet());
  app.use(cookieParser());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  // No app-wide urlencoded parser: the routes that take a page's form parse it
  // themselves, strictly (TakesForms, src/users/pages/form-body.guard.ts).
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ApiErrorsFilter());
}
