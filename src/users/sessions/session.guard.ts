import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiException } from '../../platform/api-error';
import { ApiAnswers } from '../../platform/openapi/api-answers';
import { SessionCookie } from './session-cookie';
import { type Session, SessionStore } from './session-store';

export const NOT_SIGNED_IN = 'NOT_SIGNED_IN';

/** The OpenAPI security scheme of the session cookie (openapi-document.ts). */
export const SESSION_SECURITY = 'session';

interface RequestWithSession extends Request {
  session?: Session;
}

/** Lets a request through only with a live session, which it then carries. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionStore,
    private readonly cookie: SessionCookie,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithSession>();
    const session = await this.sessionOf(request);
    if (!session) {
      throw new ApiException(HttpStatus.UNAUTHORIZED, NOT_SIGNED_IN, 'Sign in first.');
    }
    request.session = session;
    return true;
  }

  /** The live session of the request's cookie, if any (for a page that works either way). */
  async sessionOf(request: Request): Promise<Session | undefined> {
    const token = this.cookie.read(request);
    return token ? this.sessions.find(token) : undefined;
  }
}

/** The session that SessionGuard attached to the request. */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Session => {
    const session = context.switchToHttp().getRequest<RequestWithSession>().session;
    if (!session) throw new Error('CurrentSession used on a route without SessionGuard');
    return session;
  },
);

/** The route needs a live session (SessionGuard), and says so in the OpenAPI document. */
export const SignedIn = () =>
  applyDecorators(
    UseGuards(SessionGuard),
    ApiSecurity(SESSION_SECURITY),
    ApiAnswers({
      status: 401,
      codes: [NOT_SIGNED_IN],
      description: 'No live session: no session cookie, or one that ended (`NOT_SIGNED_IN`).',
    }),
  );
