/**
 * The one place that builds the API's OpenAPI 3.1 document: @nestjs/swagger reads the
 * routes of a Nest app of this API and the decorators on them (`@ApiAnswers`, `@ApiProperty`,
 * ...). The app serves what this builds (`GET /openapi.json`), `npm run lint:openapi` lints
 * it, and the contract tests check every real answer against it (test/support/openapi-contract.ts).
 *
 * It needs the decorator metadata that tsc and swc emit (`design:type`, the `@Body()`
 * parameter's class) and esbuild (tsx) cannot: scripts/openapi.ts runs through swc.
 */
import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { addAnswers, type Answer, REQUEST_ID, UNREADABLE_BODY } from './api-answers';
import { CROSS_SITE_REQUEST } from '../same-origin.guard';
import { SessionCookie } from '../../users/sessions/session-cookie';
import { SESSION_SECURITY } from '../../users/sessions/session.guard';

export const OPENAPI_VERSION = '3.1.0';

/** The contract's version: package.json's (a test keeps them equal). */
export const API_VERSION = '0.1.0';

const DESCRIPTION = `Sign-up with mail activation: register, activate the account with the link from the activation mail, sign in (a session cookie), change or reset the password.

**Errors** are one JSON shape, \`ApiError\`: \`{statusCode, error, code, message, errors?, requestId}\`. Programs go by \`code\`, which is stable; each response lists the codes it may carry. \`errors\` lists every broken rule by field, with \`VALIDATION_FAILED\` only. \`requestId\` is the \`X-Request-Id\` header of every answer.

**Pages.** The start page (\`GET /\`), the account page (\`GET /account\`) and the pages behind the activation and password-reset links have forms that post to the API's own routes. Those routes answer a form with pages (\`text/html\`) or a \`303\` to one, and a program that sends JSON, or asks for it with \`Accept: application/json\`, with JSON. A request that changes something from another site's page (\`Sec-Fetch-Site\`, or else \`Origin\`) is a \`403 CROSS_SITE_REQUEST\`.

**Rate limits** are counted per client address, account or typed identifier; a limited route says which, and its answers carry the IETF \`RateLimit\` and \`RateLimit-Policy\` headers. Over a limit: \`429 RATE_LIMITED\` with \`Retry-After\`. Deployed on AWS, API Gateway's own throttle may also answer \`429\` (body \`{"message":"Too Many Requests"}\`), and a Lambda that fails or times out \`500\`/\`503\`/\`504\` (\`{"message": ...}\`): those answers are API Gateway's, not this document's.

**Caching.** Every answer is \`Cache-Control: no-store\` but this document and its docs page, which are \`no-cache\` (revalidate, by ETag).`;

/**
 * Object schemas say every property they have: requests are validated with
 * `forbidNonWhitelisted` (an unknown field is a 400), and the answers are built field by
 * field. So each is closed (`additionalProperties: false`), and a contract test fails on
 * an answer with a field the document does not have.
 */
function closeObjectSchemas(document: OpenAPIObject): void {
  for (const schema of Object.values(document.components?.schemas ?? {}) as SchemaObject[]) {
    if (schema.type === 'object' && schema.additionalProperties === undefined) {
      schema.additionalProperties = false;
    }
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

function operationsOf(document: OpenAPIObject): [string, OperationObject][] {
  return Object.values(document.paths).flatMap((item) =>
    METHODS.flatMap((method): [string, OperationObject][] =>
      item[method] ? [[method, item[method]]] : [],
    ),
  );
}

/** The methods SameOriginGuard checks. */
const UNSAFE_METHODS = new Set(['put', 'post', 'delete', 'patch']);

const CROSS_SITE: Answer = {
  status: 403,
  codes: [CROSS_SITE_REQUEST],
  description:
    "A browser's request from another site's page (`Sec-Fetch-Site`, or else `Origin`, says so): refused, nothing changed (`CROSS_SITE_REQUEST`). A form gets a page saying so.",
};

/** Whether a route also answers a browser's form with pages. */
const answersWithPages = (operation: OperationObject) =>
  Object.values(operation.responses).some(
    (response) => (response as ResponseObject).content?.['text/html'] !== undefined,
  );

/**
 * What every route answers: the app parses a JSON body of any request, whatever its
 * method or route (app.setup.ts), so a body it cannot read is a 400, 413 or 415 before
 * any route sees it; a request that changes something may be refused as cross-site (403,
 * SameOriginGuard); and every answer has its request's id. Then the responses in the
 * order of their status.
 */
function addAppWideAnswers(document: OpenAPIObject): void {
  const { requiredUnlessPage: _always, ...requestId } = REQUEST_ID;
  for (const [method, operation] of operationsOf(document)) {
    addAnswers(operation.responses, UNREADABLE_BODY);
    if (UNSAFE_METHODS.has(method)) {
      addAnswers(operation.responses, [{ ...CROSS_SITE, page: answersWithPages(operation) }]);
    }
    const responses = Object.entries(operation.responses).sort(([a], [b]) =>
      a.localeCompare(b),
    ) as [string, ResponseObject][];
    for (const [, response] of responses) {
      response.headers = { 'X-Request-Id': requestId, ...response.headers };
    }
    operation.responses = Object.fromEntries(responses);
  }
}

/** An operation that needs no session says so (`security: []`) rather than by omission. */
function sayWhichArePublic(document: OpenAPIObject): void {
  for (const [, operation] of operationsOf(document)) operation.security ??= [];
}

/**
 * The server: this deployment's public URL without its origin, so that the URL is
 * relative to wherever the document is read from (Swagger UI tries requests on its own
 * origin, whatever host name it was opened by), and still carries a path prefix.
 */
const serverOf = (publicBaseUrl: string) =>
  new URL(publicBaseUrl).pathname.replace(/\/$/, '') || '/';

/** The document of `app`, an app of this API (createApp), as it is configured. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = app.get<AppConfig>(APP_CONFIG);
  const cookie = app.get(SessionCookie);
  const base = new DocumentBuilder()
    .setOpenAPIVersion(OPENAPI_VERSION)
    .setTitle('card-store')
    .setDescription(DESCRIPTION)
    .setVersion(API_VERSION)
    .setLicense('MIT', 'https://spdx.org/licenses/MIT.html')
    .addServer(
      serverOf(config.http.publicBaseUrl),
      `This deployment: ${config.http.publicBaseUrl} (PUBLIC_BASE_URL), relative to where this document is served.`,
    )
    .addCookieAuth(
      cookie.name,
      {
        type: 'apiKey',
        in: 'cookie',
        name: cookie.name,
        description: `The session, started by \`POST /login\` (or an activation), as the HttpOnly cookie \`${cookie.name}\`; ended by \`POST /logout\`, \`POST /logout/all\`, a password change or reset, or its expiry.`,
      },
      SESSION_SECURITY,
    )
    .addTag('users', 'Registration and the signed-in account.')
    .addTag('sessions', 'Signing in and out: the session cookie.')
    .addTag('activation', 'The activation link: its page, the activation, a new mail.')
    .addTag('password', 'Forgot the password: the reset mail and its link.')
    .addTag('pages', 'The pages for a person: the start page, the account page, their stylesheet.')
    .addTag('health', 'Whether this instance can reach its data.')
    .addTag('documentation', 'This document and Swagger UI.')
    .build();
  const document = SwaggerModule.createDocument(
    app,
    {
      ...base,
      info: { ...base.info, contact: undefined },
    },
    { autoTagControllers: false },
  );
  closeObjectSchemas(document);
  addAppWideAnswers(document);
  sayWhichArePublic(document);
  return document;
}
