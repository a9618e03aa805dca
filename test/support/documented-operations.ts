/**
 * The operations of an OpenAPI document that promise a status, for the tests that send
 * each of them a request (documented-answers.spec.ts, cross-site.spec.ts): a new route is
 * tested as soon as it documents the answer.
 */
import type { OpenAPIObject, ResponseObject } from '@nestjs/swagger';

export interface Documented {
  /** `POST /users`. */
  readonly operation: string;
  readonly method: string;
  /** The path, any `{parameter}` filled with `x`. */
  readonly path: string;
  readonly mediaTypes: readonly string[];
  /** The error codes its JSON answer may carry. */
  readonly codes: readonly string[];
}

type ErrorSchema = { allOf?: [unknown, { properties?: { code?: { enum?: string[] } } }] };

/** The operations whose document has `status`, with the media types it answers in. */
export function documenting(document: OpenAPIObject, status: string): Documented[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) => {
      const response = (operation as { responses: Record<string, ResponseObject> }).responses[
        status
      ];
      if (!response) return [];
      return [
        {
          operation: `${method.toUpperCase()} ${path}`,
          method,
          path: path.replace(/\{[^}]+\}/g, 'x'),
          mediaTypes: Object.keys(response.content ?? {}),
          codes:
            (response.content?.['application/json']?.schema as ErrorSchema | undefined)?.allOf?.[1]
              ?.properties?.code?.enum ?? [],
        },
      ];
    }),
  );
}
