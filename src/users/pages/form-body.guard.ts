/**
 * Reads an `application/x-www-form-urlencoded` body, for the routes that take a page's
 * form (the app parses only JSON app-wide; see app.setup.ts). Strict on purpose: flat keys only
 * (`extended: false`, so `a[b]=c` is one odd key, not an object), a handful of parameters,
 * a small size. A repeated key becomes an array, which the DTO refuses as a non-string.
 *
 * A guard rather than a middleware: it runs inside the route, so its errors (too large,
 * too many parameters, bad charset) reach the route's exception filter, which can answer
 * a browser with a page instead of JSON. A guard rather than an interceptor: the rate
 * limit's guard, which runs after it, keys on the username in the body. Pipes
 * (validation) run after both.
 */
import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { type Request, type Response, urlencoded } from 'express';
import { Accepts } from '../../platform/json-body.guard';
import { ApiAnswers } from '../../platform/openapi/api-answers';

/**
 * The largest form is the new-password one, username + token + the password twice: under
 * 1 KB, but a 128-character password of non-Latin letters is up to 1.5 KB
 * percent-encoded, twice.
 */
export const FORM_BODY_LIMIT = '4kb';
export const FORM_PARAMETER_LIMIT = 8;

const parseForm = urlencoded({
  extended: false,
  limit: FORM_BODY_LIMIT,
  parameterLimit: FORM_PARAMETER_LIMIT,
  type: 'application/x-www-form-urlencoded',
});

@Injectable()
export class FormBodyGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    await new Promise<void>((resolve, reject) => {
      parseForm(request, response, (error?: unknown) =>
        error ? reject(error as Error) : resolve(),
      );
    });
    return true;
  }
}

/**
 * A route that takes a page's form as well as JSON: the two media types (anything else is
 * a 415), the form read strictly (FormBodyGuard), and, in the OpenAPI document, the page a
 * browser gets for a form that could not be read.
 */
export const TakesForms = () =>
  applyDecorators(
    Accepts('application/x-www-form-urlencoded', 'application/json'),
    UseGuards(FormBodyGuard),
    ApiAnswers({
      status: 400,
      page: true,
      description:
        "A browser's form that could not be read (too large, too many fields, an unknown charset): its page again, saying so.",
    }),
  );
