import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  HttpStatus,
  Injectable,
} from '@nestjs/common';
import type { Request } from 'express';
import { ApiException } from '../../platform/api-error';
import { SessionCookie } from './session-cookie';
import { type Session, SessionStore } from './session-store';

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
    const token = this.cookie.read(request);
    const session = token ? await this.sessions.find(token) : undefined;
    if (!session) {
      throw new ApiException(HttpStatus.UNAUTHORIZED, 'NOT_SIGNED_IN', 'Sign in first.');
    }
    request.session = session;
    return true;
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
