/**
 * Endpoints that take a body accept only the media types they declare: anything else is a
 * 415, not an empty body that fails validation with a misleading message.
 */
import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  SetMetadata,
  UseGuards,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiConsumes } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiException } from './api-error';
import { ApiAnswers } from './openapi/api-answers';

export const UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE';

const ACCEPTED_TYPES = Symbol('acceptedMediaTypes');

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

@Injectable()
export class MediaTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const accepted = this.reflector.get<string[]>(ACCEPTED_TYPES, context.getHandler()) ?? [];
    const request = context.switchToHttp().getRequest<Request>();
    if (!hasBody(request) || request.is(accepted)) return true;
    throw new ApiException(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      UNSUPPORTED_MEDIA_TYPE,
      `Send the body as ${accepted.join(' or ')}.`,
    );
  }
}

/** Declares the media types a handler's body may have (default: JSON only). */
export const Accepts = (...types: string[]) => {
  const accepted = types.length > 0 ? types : ['application/json'];
  return applyDecorators(
    SetMetadata(ACCEPTED_TYPES, accepted),
    UseGuards(MediaTypeGuard),
    ApiConsumes(...accepted),
    ApiAnswers({
      status: 415,
      codes: [UNSUPPORTED_MEDIA_TYPE],
      description: `A body of another media type than ${accepted.map((type) => `\`${type}\``).join(' or ')} (\`UNSUPPORTED_MEDIA_TYPE\`).`,
    }),
  );
};
