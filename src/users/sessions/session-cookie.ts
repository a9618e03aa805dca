/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
 * POSTs), Secure with the `__Host-` prefix when the public URL is https.
 */
import type { CookieOptions, Request, Response } from 'express';
import type { AppConfig } from '../../config/app-config';
import type { AnswerHeader } from '../../platform/openapi/api-answers';

export const SESSION_COOKIE_NAME = 'card_store_session';
/** The name when the public URL is https: `__Host-` makes browsers insist on Secure, Path=/ and no Domain. */
export const SECURE_SESSION_COOKIE_NAME = `__Host-${SESSION_COOKIE_NAME}`;

const COOKIE = `\`${SESSION_COOKIE_NAME}\` (\`${SECURE_SESSION_COOKIE_NAME}\`, with Secure, when the public URL is https)`;

/** The OpenAPI `Set-Cookie` of an answer that starts a session. */
export const SESSION_COOKIE_SET: AnswerHeader = {
  description: `The session cookie ${COOKIE}: HttpOnly, SameSite=Lax, Path=/, expiring with the session.`,
  required: true,
  schema: { type: 'string', pattern: `^(__Host-)?${SESSION_COOKIE_NAME}=[^;]+;` },
};

/** The OpenAPI `Set-Cookie` of an answer that ends the session on this client. */
export const SESSION_COOKIE_CLEARED: AnswerHeader = {
  description: `Clears the session cookie ${COOKIE}.`,
  required: true,
  schema: { type: 'string', pattern: `^(__Host-)?${SESSION_COOKIE_NAME}=;` },
};

/** Either, when the answer's body says which. */
export const SESSION_COOKIE_SET_OR_CLEARED: AnswerHeader = {
  description: `${SESSION_COOKIE_SET.description} Cleared instead when no new session could start.`,
  required: true,
  schema: { type: 'string', pattern: `^(__Host-)?${SESSION_COOKIE_NAME}=` },
};

export class SessionCookie {
  readonly name: string;
  private readonly options: CookieOptions;

  constructor(config: AppConfig['session']) {
    this.name = config.secureCookie ? SECURE_SESSION_COOKIE_NAME : SESSION_COOKIE_NAME;
    this.options = { httpOnly: true, sameSite: 'lax', secure: config.secureCookie, path: '/' };
  }

  read(request: Request): string | undefined {
    const cookies = request.cookies as Record<string, unknown> | undefined;
    const value = cookies?.[this.name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  write(response: Response, token: string, expiresAt: Date): void {
    response.cookie(this.name, token, { ...this.options, expires: expiresAt });
  }

  clear(response: Response): void {
    response.clearCookie(this.name, this.options);
  }
}
