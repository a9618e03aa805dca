/**
 * The session cookie: HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
 * POSTs), Secure with the `__Host-` prefix when the public URL is https.
 */
import type { CookieOptions, Request, Response } from 'express';
import type { AppConfig } from '../../config/app-config';

export class SessionCookie {
  readonly name: string;
  private readonly options: CookieOptions;

  constructor(config: AppConfig['session']) {
    this.name = config.secureCookie ? '__Host-card_store_session' : 'card_store_session';
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
