import { applyDecorators, type ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import {
  type AnswerHeader,
  ApiAnswers,
  DEPENDENCY_UNAVAILABLE,
  RATE_LIMITER_UNAVAILABLE,
  RETRY_AFTER,
} from '../openapi/api-answers';
import { RATE_LIMIT_DEFAULTS, type RateLimitName } from './rate-limit-policies';
import { RATE_LIMITED, RateLimitGuard } from './rate-limit.guard';

const RATE_LIMITED_BY = Symbol('rate limits of the route');

const KEY_WORDS = {
  address: 'client address',
  account: 'account',
  'account-address': 'account and client address',
  identifier: 'e-mail address or username typed',
} as const;

/** The route's limits and how they are told, for the OpenAPI document. */
function rateLimitAnswers(limits: readonly RateLimitName[]) {
  const names = limits.map((name) => `"${name}"`).join(', ');
  const policies = limits
    .map((name) => {
      const { key, value } = RATE_LIMIT_DEFAULTS[name];
      return `\`${name}\` (${value} per ${KEY_WORDS[key]})`;
    })
    .join(', ');
  const headers: Record<string, AnswerHeader> = {
    RateLimit: {
      description: `Per limit of the route (${names}): the requests left (r) and the seconds until its window ends (t), as \`"name";r=4;t=900\`.`,
      required: true,
      schema: { type: 'string', pattern: '^"[a-z-]+";r=\\d+;t=\\d+(, *"[a-z-]+";r=\\d+;t=\\d+)*$' },
    },
    'RateLimit-Policy': {
      description: `Per limit of the route: its quota (q) and window in seconds (w), as \`"name";q=5;w=900\`.`,
      required: true,
      schema: { type: 'string', pattern: '^"[a-z-]+";q=\\d+;w=\\d+(, *"[a-z-]+";q=\\d+;w=\\d+)*$' },
    },
  };
  return ApiAnswers(
    { status: '2XX', headers },
    {
      status: 429,
      codes: [RATE_LIMITED],
      description: `Over a rate limit (\`RATE_LIMITED\`): ${policies} by default. Nothing was done; wait \`Retry-After\` seconds.`,
      headers: { 'Retry-After': { ...RETRY_AFTER, required: true }, ...headers },
    },
    RATE_LIMITER_UNAVAILABLE,
    DEPENDENCY_UNAVAILABLE,
  );
}

/**
 * Counts the route's requests against these limits (rate-limit-policies.ts), shortest
 * window first; the first one over answers 429 and the rest do not count the request.
 * Routes without it are not limited by the app (the stage throttle still applies).
 */
export const RateLimited = (...limits: RateLimitName[]) =>
  applyDecorators(
    SetMetadata(RATE_LIMITED_BY, limits),
    UseGuards(RateLimitGuard),
    rateLimitAnswers(limits),
  );

export function routeRateLimits(reflector: Reflector, context: ExecutionContext): RateLimitName[] {
  return (
    reflector.getAllAndOverride<RateLimitName[] | undefined>(RATE_LIMITED_BY, [
      context.getHandler(),
      context.getClass(),
    ]) ?? []
  );
}
