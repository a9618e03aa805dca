/**
 * The OpenAPI contract in the tests. `OpenApiContract` checks an answer against a document:
 * the path (templates such as `/docs/{asset}` included) and method find the operation;
 * then the status must be one of its responses, the media type one of that response's,
 * the body valid against its schema (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 has it, with
 * formats, `#/components/...` refs resolved in the document), and its required headers
 * present and well-formed. An undocumented status or media type is a violation.
 *
 * `checkAnswers(app)` puts every answer of an app under the check, against the document
 * that very app serves (buildOpenApiDocument, built once per app on its first answer):
 * createTestApp does it, so every request of an API test is checked, and a violation
 * fails the test that made it (contract-setup.ts). Requests to paths or methods the
 * document does not have (an unknown route's 404) are outside the contract and are not
 * checked; that every route is in the document is test/api/openapi.spec.ts's job.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type {
  HeaderObject,
  OpenAPIObject,
  OperationObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../src/platform/openapi/openapi-document';
import { logExercised, recordViolation } from './contract-log';

/** An answer as the app sent it. */
export interface ObservedAnswer {
  readonly method: string;
  /** The request's path and query, as sent. */
  readonly url: string;
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

export type ContractCheck =
  | { readonly checked: false }
  | {
      readonly checked: true;
      /** `GET /docs/{asset}` */
      readonly operation: string;
      /** The response it was checked against: `200`, and `application/json` if it had a body. */
      readonly response: string;
      readonly problems: readonly string[];
    };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;
type Method = (typeof METHODS)[number];
const DOCUMENT_ID = 'https://card-store.invalid/openapi.json';

/** A JSON pointer segment, as a URI fragment. */
const pointer = (...segments: string[]) =>
  segments
    .map((segment) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1')))
    .join('/');

const isReference = (value: object): value is ReferenceObject => '$ref' in value;

function describeErrors(
  errors: readonly ErrorObject[] | null | undefined,
  whole = '(body)',
): string {
  return (errors ?? [])
    .map((error) => `${error.instancePath || whole} ${error.message ?? ''}`.trim())
    .join('; ');
}

interface Route {
  readonly template: string;
  readonly pattern: RegExp;
  /** Literal segments rank before templated ones (`/users/me` before `/users/{id}`). */
  readonly literals: number;
}

export class OpenApiContract {
  private readonly ajv: Ajv2020;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenAPIObject) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // OpenAPI's own keywords beside JSON Schema's (annotations only), and the fields of the
    // document itself, which Ajv holds as the root of every schema in it so that
    // `#/components/...` resolves: the schemas are compiled one by one, by JSON pointer.
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
    this.ajv.addVocabulary(Object.keys(document).filter((field) => !this.ajv.getKeyword(field)));
    this.ajv.addSchema(document as object, DOCUMENT_ID);
    this.routes = Object.keys(document.paths)
      .map((template) => {
        const segments = template.split('/');
        const pattern = segments
          .map((segment) =>
            /^\{[^}]+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('/');
        return {
          template,
          pattern: new RegExp(`^${pattern}$`),
          literals: segments.filter((segment) => !segment.startsWith('{')).length,
        };
      })
      .sort((a, b) => b.literals - a.literals);
  }

  /** The document's operation for a request, if it has one. */
  operationOf(
    method: string,
    url: string,
  ): { template: string; method: Method; operation: OperationObject } | undefined {
    const path = url.split('?')[0] ?? '';
    const lower = method.toLowerCase() as Method;
    if (!METHODS.includes(lower)) return undefined;
    for (const route of this.routes) {
      if (!route.pattern.test(path)) continue;
      const operation = this.document.paths[route.template]?.[lower];
      if (operation) return { template: route.template, method: lower, operation };
    }
    return undefined;
  }

  check(answer: ObservedAnswer): ContractCheck {
    const found = this.operationOf(answer.method, answer.url);
    if (!found) return { checked: false };
    const operation = `${found.method.toUpperCase()} ${found.template}`;
    const problems: string[] = [];
    const status = String(answer.status);
    const responses = found.operation.responses;
    const key = [status, `${status[0]}XX`, 'default'].find((candidate) => responses[candidate]);
    if (!key) {
      problems.push(
        `status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`,
      );
      return { checked: true, operation, response: status, problems };
    }
    const documented = responses[key]!;
    if (isReference(documented))
      throw new Error(`${operation} ${key}: response $refs are not supported`);
    problems.push(...this.headerProblems(documented, answer.headers));
    const mediaType = this.bodyProblems(found, key, documented, answer, problems);
    return {
      checked: true,
      operation,
      response: mediaType ? `${key} ${mediaType}` : key,
      problems,
    };
  }

  private headerProblems(documented: ResponseObject, headers: OutgoingHttpHeaders): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      if (isReference(header)) throw new Error(`header ${name}: $refs are not supported`);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      // Set-Cookie is one cookie per line; other repeated headers are one list.
      const values =
        name.toLowerCase() === 'set-cookie'
          ? [value].flat().map(String)
          : [Array.isArray(value) ? value.join(', ') : String(value)];
      for (const text of values) {
        const problem = this.headerValueProblem(header, text);
        if (problem) problems.push(`header ${name}: ${JSON.stringify(text)} ${problem}`);
      }
    }
    return problems;
  }

  private headerValueProblem(header: HeaderObject, text: string): string | undefined {
    const schema = header.schema as SchemaObject | undefined;
    if (!schema) return undefined;
    const numeric = schema.type === 'integer' || schema.type === 'number';
    const value = numeric && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    const validate = this.ajv.compile(schema);
    return validate(value) ? undefined : describeErrors(validate.errors, '');
  }

  /** Checks the body; returns its media type, if it had one. */
  private bodyProblems(
    found: { template: string; method: Method },
    key: string,
    documented: ResponseObject,
    answer: ObservedAnswer,
    problems: string[],
  ): string | undefined {
    const contentType = answer.headers['content-type'];
    const mediaType =
      typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : undefined;
    const content = documented.content ?? {};
    const types = Object.keys(content);
    if (answer.body.length === 0) {
      if (types.length > 0) problems.push(`has no body; documented: ${types.join(', ')}`);
      return undefined;
    }
    if (!mediaType) {
      problems.push('has a body without a Content-Type');
      return undefined;
    }
    if (!content[mediaType]) {
      problems.push(
        `media type ${mediaType} is not documented for ${key} (documented: ${types.join(', ') || 'no body'})`,
      );
      return mediaType;
    }
    if (!content[mediaType].schema) return mediaType;
    let body: unknown = answer.body.toString('utf8');
    if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
      try {
        body = JSON.parse(body as string);
      } catch {
        problems.push('has a body that is not JSON');
        return mediaType;
      }
    }
    const validate = this.bodyValidator(
      pointer(
        'paths',
        found.template,
        found.method,
        'responses',
        key,
        'content',
        mediaType,
        'schema',
      ),
    );
    if (!validate(body)) problems.push(`body: ${describeErrors(validate.errors)}`);
    return mediaType;
  }

  private bodyValidator(fragment: string): ValidateFunction {
    let validate = this.validators.get(fragment);
    if (!validate) {
      validate = this.ajv.getSchema(`${DOCUMENT_ID}#/${fragment}`);
      if (!validate) throw new Error(`no schema at #/${fragment}`);
      this.validators.set(fragment, validate);
    }
    return validate;
  }
}

type RequestListener = (request: IncomingMessage, response: ServerResponse, next?: unknown) => void;

/** Calls `done` with the answer, just before it is sent (its status, headers and whole body). */
function observe(
  request: IncomingMessage,
  response: ServerResponse,
  done: (answer: ObservedAnswer) => void,
): void {
  const { method = 'GET', url = '/' } = request;
  const chunks: Buffer[] = [];
  const collect = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    chunks.push(
      Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(
            chunk as string,
            typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
          ),
    );
  };
  const write = response.write;
  const end = response.end;
  response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    collect(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    collect(chunk, rest[0]);
    done({
      method,
      url,
      status: this.statusCode,
      headers: this.getHeaders(),
      body: Buffer.concat(chunks),
    });
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
}

/** The `code` of an answer in the API's error shape. */
function codeOf(answer: ObservedAnswer): string | undefined {
  if (!String(answer.headers['content-type']).startsWith('application/json')) return undefined;
  try {
    const { code } = JSON.parse(answer.body.toString('utf8')) as { code?: unknown };
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

const checked = new WeakSet<object>();

/**
 * From now on, every answer of `app` (over HTTP, or an event handed to its Express instance
 * as on Lambda) is checked against the document the app serves; a violation is recorded
 * for contract-setup.ts to fail the running test with. Returns the app.
 */
export function checkAnswers<App extends INestApplication>(app: App): App {
  const express = app.getHttpAdapter().getInstance() as { handle: RequestListener };
  if (checked.has(express)) return app;
  checked.add(express);
  let contract: OpenApiContract | undefined;
  const handle = express.handle;
  express.handle = function (this: unknown, request, response, next) {
    observe(request, response, (answer) => {
      try {
        contract ??= new OpenApiContract(buildOpenApiDocument(app));
        const result = contract.check(answer);
        if (!result.checked) return;
        if (result.problems.length === 0) {
          logExercised({
            operation: result.operation,
            response: result.response,
            code: codeOf(answer),
          });
        }
        for (const problem of result.problems) {
          recordViolation(
            `${answer.method} ${answer.url.split('?')[0]} → ${result.response}: ${problem}`,
          );
        }
      } catch (error) {
        recordViolation(`${answer.method} ${answer.url} could not be checked: ${String(error)}`);
      }
    });
    return handle.call(this, request, response, next);
  };
  return app;
}
