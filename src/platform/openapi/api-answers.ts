/**
 * What a route answers, for the OpenAPI document (openapi-document.ts). Each route lists
 * its answers with `@ApiAnswers(...)`, and the decorators that give a route a behaviour
 * add what that behaviour answers: `@Accepts` (415, the body's media types),
 * `@RateLimited` (429, the RateLimit headers), `@SignedIn` (401, the session cookie).
 *
 * Answers of one status merge into one response: their error codes add up to the enum of
 * that response's `code`, their descriptions join, their headers and media types combine.
 * An answer with `codes` is the API's one error shape (ApiErrorBody) with those codes; one
 * with `page` is (also) an HTML page, the answer a browser's form post or link gets.
 */
import type { Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiSchema,
  DECORATORS,
  getSchemaPath,
  type HeaderObject,
  type MediaTypeObject,
  type ReferenceObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { bodyParserErrorCodes, RETRY_AFTER_SECONDS } from '../api-errors.filter';
import { SAFE_REQUEST_ID } from '../logging';

@ApiSchema({ name: 'FieldError', description: 'The broken rules of one field of the request.' })
export class FieldErrorBody {
  @ApiProperty({
    description: 'The field; `parent.child` for a nested one, `(body)` for the body itself.',
    examples: ['username'],
  })
  field!: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    description: 'One message per broken rule, each naming the field.',
    examples: [['username must be 3 to 32 characters long']],
  })
  messages!: string[];
}

@ApiSchema({
  name: 'ApiError',
  description:
    'The one error shape of the API. `code` is stable and meant for programs; `message` is for people and may change.',
})
export class ApiErrorBody {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, examples: [400] })
  statusCode!: number;

  @ApiProperty({ description: "The status's reason phrase.", examples: ['Bad Request'] })
  error!: string;

  @ApiProperty({
    pattern: '^[A-Z][A-Z0-9_]*$',
    description: 'Stable and machine-readable; each response lists the codes it may carry.',
    examples: ['VALIDATION_FAILED'],
  })
  code!: string;

  @ApiProperty({ examples: ['The request has invalid fields.'] })
  message!: string;

  @ApiProperty({
    type: [FieldErrorBody],
    required: false,
    description: 'Every broken rule, per field: only with `VALIDATION_FAILED`.',
  })
  errors?: FieldErrorBody[];

  @ApiProperty({
    description: "This request's id, as in the `X-Request-Id` header: quote it when reporting.",
    pattern: SAFE_REQUEST_ID.source,
    examples: ['4f0c7f9e-6a43-4d5e-9a8e-3b1c2d4e5f60'],
  })
  requestId!: string;
}

/** A response header; `requiredUnlessPage`: sent with every JSON answer, not with a page. */
export interface AnswerHeader extends HeaderObject {
  readonly requiredUnlessPage?: boolean;
}

type JsonBody = Type<unknown> | SchemaObject | ReferenceObject;

export interface Answer {
  /** The status; `2XX`: headers that every success response of the route carries. */
  readonly status: number | '2XX';
  readonly description?: string;
  /** A JSON body other than an error: a class with `@ApiProperty`s, or a schema. */
  readonly json?: JsonBody;
  /** An error in the API's error shape, with one of these codes. */
  readonly codes?: readonly string[];
  /** An HTML page (for a browser; `text/html`). */
  readonly page?: boolean;
  /** Bodies of other media types. */
  readonly content?: Readonly<Record<string, SchemaObject>>;
  readonly headers?: Readonly<Record<string, AnswerHeader>>;
}

/** The `Location` of a `303 See Other` after a form: a page, relative to the route. */
export const LOCATION: AnswerHeader = {
  required: true,
  description: 'The page to show next, relative to this route (`account`, `./?notice=…`).',
  schema: { type: 'string' },
};

export const PAGE_SCHEMA: SchemaObject = {
  type: 'string',
  description:
    'A small self-contained HTML page (no scripts, its own Content-Security-Policy), for a person.',
};

const ANSWERS = Symbol('the route answers for OpenAPI');

const isClass = (body: JsonBody): body is Type<unknown> => typeof body === 'function';

function errorSchema(status: number, codes: readonly string[]): SchemaObject {
  return {
    allOf: [
      { $ref: getSchemaPath(ApiErrorBody) },
      {
        type: 'object',
        properties: {
          statusCode: { type: 'integer', enum: [status] },
          code: { type: 'string', enum: [...codes] },
        },
      },
    ],
  };
}

interface Merged {
  descriptions: string[];
  codes: string[];
  json?: JsonBody;
  page: boolean;
  content: Record<string, SchemaObject>;
  headers: Record<string, AnswerHeader>;
}

function merge(answers: readonly Answer[]): Map<number, Merged> {
  const byStatus = new Map<number, Merged>();
  for (const answer of answers) {
    if (answer.status === '2XX') continue;
    const merged = byStatus.get(answer.status) ?? {
      descriptions: [],
      codes: [],
      page: false,
      content: {},
      headers: {},
    };
    if (answer.description && !merged.descriptions.includes(answer.description)) {
      merged.descriptions.push(answer.description);
    }
    for (const code of answer.codes ?? [])
      if (!merged.codes.includes(code)) merged.codes.push(code);
    if (answer.json) {
      if (merged.json && merged.json !== answer.json) {
        throw new Error(`Two JSON bodies for status ${answer.status}`);
      }
      merged.json = answer.json;
    }
    merged.page ||= Boolean(answer.page);
    Object.assign(merged.content, answer.content);
    Object.assign(merged.headers, answer.headers);
    byStatus.set(answer.status, merged);
  }
  for (const answer of answers) {
    if (answer.status !== '2XX') continue;
    for (const [status, merged] of byStatus) {
      if (status >= 200 && status < 300) Object.assign(merged.headers, answer.headers);
    }
  }
  return byStatus;
}

function responseOf(status: number, merged: Merged): ResponseObject {
  if (merged.json && merged.codes.length > 0) {
    throw new Error(`Status ${status} has both an error code and another JSON body`);
  }
  const content: Record<string, MediaTypeObject> = {};
  if (merged.codes.length > 0) {
    content['application/json'] = { schema: errorSchema(status, merged.codes) };
  } else if (merged.json) {
    content['application/json'] = {
      schema: isClass(merged.json) ? { $ref: getSchemaPath(merged.json) } : merged.json,
    };
  }
  if (merged.page) content['text/html'] = { schema: PAGE_SCHEMA };
  for (const [type, schema] of Object.entries(merged.content)) content[type] = { schema };
  const headers = Object.fromEntries(
    Object.entries(merged.headers).map(([name, { requiredUnlessPage, ...header }]) => [
      name,
      { ...header, required: Boolean(header.required || (requiredUnlessPage && !merged.page)) },
    ]),
  );
  return {
    description: merged.descriptions.join(' ') || `Status ${status}.`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

/** The `code` enum of an error response's schema (errorSchema), to add codes to. */
const errorCodesOf = (schema: unknown): string[] | undefined =>
  (schema as { allOf?: [unknown, { properties?: { code?: { enum?: string[] } } }] } | undefined)
    ?.allOf?.[1]?.properties?.code?.enum;

/**
 * Adds answers to responses already in a document (for what every route answers, which no
 * route declares: see openapi-document.ts), merged as `@ApiAnswers` merges them.
 */
export function addAnswers(
  responses: Record<string, ResponseObject | ReferenceObject | undefined>,
  answers: readonly Answer[],
): void {
  for (const [status, merged] of merge(answers)) {
    const added = responseOf(status, merged);
    const existing = responses[status] as ResponseObject | undefined;
    if (!existing) {
      responses[status] = added;
      continue;
    }
    existing.description = `${existing.description} ${added.description}`;
    existing.headers = { ...added.headers, ...existing.headers };
    const json = existing.content?.['application/json'];
    const codes = errorCodesOf(json?.schema);
    if (codes && merged.codes.length > 0) {
      for (const code of merged.codes) if (!codes.includes(code)) codes.push(code);
    } else if (json && added.content?.['application/json']) {
      throw new Error(`Status ${status} would have two JSON bodies`);
    }
    existing.content = { ...added.content, ...existing.content };
  }
}

/**
 * Declares answers of the route (a method decorator). May be applied several times, by
 * other decorators too: each application adds to what the route answers.
 */
export function ApiAnswers(...answers: Answer[]): MethodDecorator {
  return (target, key, descriptor) => {
    const handler = descriptor.value as object;
    // Decorators apply bottom-up: the route's own answers (listed on top) come first.
    const all: Answer[] = [...answers, ...(Reflect.getMetadata(ANSWERS, handler) ?? [])];
    Reflect.defineMetadata(ANSWERS, all, handler);
    const responses = Object.fromEntries(
      [...merge(all)].map(([status, merged]) => [status, responseOf(status, merged)]),
    );
    Reflect.defineMetadata(DECORATORS.API_RESPONSE, responses, handler);
    const models = all.flatMap((answer) =>
      answer.json && isClass(answer.json) ? [answer.json] : [],
    );
    if (all.some((answer) => answer.codes)) models.push(ApiErrorBody, FieldErrorBody);
    if (models.length > 0) ApiExtraModels(...models)(target, key, descriptor);
    return descriptor;
  };
}

// ---- Answers many routes share ----

/**
 * The body parser's codes, but REQUEST_ABORTED: the answer to a client that went away
 * while sending, which nobody reads.
 */
const BODY_ERRORS = (status: number) =>
  (bodyParserErrorCodes()[status] ?? []).filter((code) => code !== 'REQUEST_ABORTED');

/** On every answer (src/platform/logging.ts). */
export const REQUEST_ID: AnswerHeader = {
  description:
    "This request's id: the client's own `X-Request-Id` when it sent a short, plain one, else a new UUID. It is in the logs, and in an error's body as `requestId`.",
  required: true,
  schema: { type: 'string', pattern: SAFE_REQUEST_ID.source },
};

export const RETRY_AFTER: AnswerHeader = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 1 },
  requiredUnlessPage: true,
};

/** The codes a 503 carries when it passes by itself: with Retry-After. */
const retryable = (...codes: string[]): Answer => {
  for (const code of codes) {
    if (RETRY_AFTER_SECONDS[code] === undefined) throw new Error(`${code} has no Retry-After`);
  }
  return { status: 503, codes, headers: { 'Retry-After': RETRY_AFTER } };
};

/** What any request with a body can get from the body parser, before any route sees it. */
export const UNREADABLE_BODY: readonly Answer[] = [
  {
    status: 400,
    codes: BODY_ERRORS(400),
    description:
      'The body could not be read: not JSON (`MALFORMED_JSON`), or not as long as announced (`BAD_REQUEST`).',
  },
  {
    status: 413,
    codes: BODY_ERRORS(413),
    description: 'The body is larger than the API reads (16 kB of JSON).',
  },
  {
    status: 415,
    codes: BODY_ERRORS(415),
    description:
      'The body has a content encoding (`UNSUPPORTED_ENCODING`) or charset (`UNSUPPORTED_CHARSET`) the API does not read.',
  },
];

export const INVALID_FIELDS: Answer = {
  status: 400,
  codes: ['VALIDATION_FAILED'],
  description:
    'A field is missing, unknown or breaks a rule (`VALIDATION_FAILED`); `errors` lists every broken rule by field.',
};

export const INTERNAL_ERROR: Answer = {
  status: 500,
  codes: ['INTERNAL_ERROR'],
  description:
    'Something failed unexpectedly (`INTERNAL_ERROR`); it is logged, nothing is revealed.',
};

/** DynamoDB unreachable, throttling or failing on its side. */
export const DEPENDENCY_UNAVAILABLE: Answer = {
  ...retryable('DEPENDENCY_UNAVAILABLE'),
  description:
    'DynamoDB is unreachable, throttling or failing on its side (`DEPENDENCY_UNAVAILABLE`): try again after `Retry-After` seconds.',
};

/** A write that kept conflicting with concurrent ones. */
export const STORE_BUSY: Answer = {
  ...retryable('STORE_BUSY'),
  description:
    'A write kept conflicting with concurrent ones on the same account (`STORE_BUSY`); try again.',
};

/** The rate limiter's own table failing: refused, fail-closed. */
export const RATE_LIMITER_UNAVAILABLE: Answer = {
  ...retryable('RATE_LIMITER_UNAVAILABLE'),
  description:
    'The request could not be counted against its rate limits, so it is refused (`RATE_LIMITER_UNAVAILABLE`).',
};

/** What a route that does I/O can always answer. */
export const FAILURES: readonly Answer[] = [INTERNAL_ERROR, DEPENDENCY_UNAVAILABLE];

/** The same answers, also as pages (routes a browser's forms post to). */
export function asPages(answers: readonly Answer[]): Answer[] {
  return answers.map((answer) => ({ ...answer, page: true }));
}

/** The same answers as pages only, without their JSON (a page a browser opens, a GET). */
export function onlyAsPages(answers: readonly Answer[]): Answer[] {
  return answers.map(({ codes: _json, ...answer }) => ({ ...answer, page: true }));
}
