/**
 * @nestjs/throttler's guard, answering in the project's terms:
 * - the IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers), one list item per
 *   limit of the route: `RateLimit-Policy: "login-address";q=60;w=900` and
 *   `RateLimit: "login-address";r=59;t=900` (remaining, seconds to the window's end);
 * - over a limit: `429 RATE_LIMITED` in the error shape with `Retry-After`;
 * - the limiter's table failing: 503 with `Retry-After`, fail-closed (a request that
 *   cannot be counted is not let through): DynamoDB unavailable or throttling is the
 *   API's usual `DEPENDENCY_UNAVAILABLE`; anything else (a missing table, a denied call)
 *   is `RATE_LIMITER_UNAVAILABLE`, logged as an error.
 */
import { createHash } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import type { Response } from 'express';
import { ApiException } from '../api-error';
import { isDependencyUnavailable } from '../api-errors.filter';
import type { ThrottlerStorageRecord } from './dynamodb-throttler-storage';
import { NO_TRACKER } from './rate-limit-trackers';

export const RATE_LIMITED = 'RATE_LIMITED';
export const RATE_LIMITER_UNAVAILABLE = 'RATE_LIMITER_UNAVAILABLE';

/** The counter's key: the limit's name and whose requests, hashed (no PII in the table). */
export function rateLimitKey(limitName: string, tracker: string): string {
  return createHash('sha256').update(`${limitName}\n${tracker}`).digest('hex');
}

@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger(RateLimitGuard.name);

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, throttler, blockDuration, getTracker, generateKey } = request;
    const name = throttler.name ?? 'default';
    const { req, res } = this.getRequestResponse(context);
    const tracker = await getTracker(req, context);
    if (tracker === NO_TRACKER) return true;
    const record = await this.count(
      generateKey(context, tracker, name),
      ttl,
      limit,
      blockDuration,
      name,
    );
    const response = res as Response;
    response.append('RateLimit-Policy', `"${name}";q=${limit};w=${Math.round(ttl / 1000)}`);
    response.append(
      'RateLimit',
      `"${name}";r=${Math.max(0, limit - record.totalHits)};t=${record.isBlocked ? record.timeToBlockExpire : record.timeToExpire}`,
    );
    if (record.isBlocked) {
      const wait = Math.max(1, record.timeToBlockExpire);
      response.setHeader('Retry-After', String(wait));
      throw new ApiException(
        HttpStatus.TOO_MANY_REQUESTS,
        RATE_LIMITED,
        `Too many requests; try again in ${wait} seconds.`,
      );
    }
    return true;
  }

  private async count(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    name: string,
  ): Promise<ThrottlerStorageRecord> {
    try {
      return await this.storageService.increment(key, ttl, limit, blockDuration, name);
    } catch (error) {
      if (isDependencyUnavailable(error)) throw error;
      this.log.error({ err: error, limit: name }, 'rate limit could not be counted: refused');
      throw new ApiException(
        HttpStatus.SERVICE_UNAVAILABLE,
        RATE_LIMITER_UNAVAILABLE,
        'The request could not be checked against its rate limit; try again shortly.',
      );
    }
  }
}
