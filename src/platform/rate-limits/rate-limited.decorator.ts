import { applyDecorators, type ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { RateLimitName } from './rate-limit-policies';
import { RateLimitGuard } from './rate-limit.guard';

const RATE_LIMITED_BY = Symbol('rate limits of the route');

/**
 * Counts the route's requests against these limits (rate-limit-policies.ts), shortest
 * window first; the first one over answers 429 and the rest do not count the request.
 * Routes without it are not limited by the app (the stage throttle still applies).
 */
export const RateLimited = (...limits: RateLimitName[]) =>
  applyDecorators(SetMetadata(RATE_LIMITED_BY, limits), UseGuards(RateLimitGuard));

export function routeRateLimits(reflector: Reflector, context: ExecutionContext): RateLimitName[] {
  return (
    reflector.getAllAndOverride<RateLimitName[] | undefined>(RATE_LIMITED_BY, [
      context.getHandler(),
      context.getClass(),
    ]) ?? []
  );
}
