/**
 * CSRF defence for every request that changes something (any method but GET, HEAD,
 * OPTIONS): it must come from this site's own pages, or from no browser at all.
 *
 * - A browser that sends Fetch Metadata (every current one) says where the request came
 *   from: only `Sec-Fetch-Site: same-origin` (or `none`, typed by the person) passes;
 *   `cross-site` and `same-site` (a sibling subdomain) are refused.
 * - Without it, an `Origin` header must be this site's: the public origin of the
 *   configuration, or the Host the request was sent to. `Origin: null` (a sandboxed or
 *   privacy-redirected form) is refused.
 * - With neither header, the client is no browser (curl, a program, the tests) or one too
 *   old to send them; for those the session cookie's SameSite=Lax keeps a cross-site POST
 *   from carrying the session.
 *
 * Why no CSRF token: a token works because another site's page cannot know it; these
 * headers work because another site's page cannot set them (they are forbidden request
 * headers, written by the browser itself). They refuse the same cross-site posts, with no
 * state to keep and no token to thread through every form.
 * docs/adr/0012-csrf-by-fetch-metadata.md has the reasoning.
 */
import {
  type CanActivate,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
} from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiException } from './api-error';

export const CROSS_SITE_REQUEST = 'CROSS_SITE_REQUEST';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether an unsafe request may come from where its headers say it comes from. */
export function isAllowedOrigin(headers: Request['headers'], publicOrigin: string): boolean {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (origin === publicOrigin) return true;
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

@Injectable()
export class SameOriginGuard implements CanActivate {
  private readonly publicOrigin: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.publicOrigin = new URL(config.http.publicBaseUrl).origin;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (SAFE_METHODS.has(request.method) || isAllowedOrigin(request.headers, this.publicOrigin)) {
      return true;
    }
    throw new ApiException(
      HttpStatus.FORBIDDEN,
      CROSS_SITE_REQUEST,
      "This request came from another site's page; it is accepted only from this site's own pages.",
    );
  }
}
