/**
 * The one owner of rate limiting: @nestjs/throttler with one named throttler per
 * published limit (rate-limit-policies.ts), counted in DynamoDB. A throttler counts only
 * on the routes that name it with `@RateLimited(...)`.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Module } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { DynamoDbThrottlerStorage } from './dynamodb-throttler-storage';
import { RATE_LIMIT_NAMES } from './rate-limit-policies';
import { rateLimitKey } from './rate-limit.guard';
import { RATE_LIMIT_TRACKERS } from './rate-limit-trackers';
import { routeRateLimits } from './rate-limited.decorator';

export function throttlerOptions(
  config: AppConfig,
  client: DynamoDBDocumentClient,
  reflector: Reflector,
): ThrottlerModuleOptions {
  return {
    storage: new DynamoDbThrottlerStorage(client, config.dynamodb.tables.rateLimits),
    generateKey: (_context, tracker, name) => rateLimitKey(name, tracker),
    throttlers: RATE_LIMIT_NAMES.map((name) => {
      const policy = config.rateLimits.policies[name];
      return {
        name,
        limit: policy.limit,
        ttl: policy.windowSeconds * 1000,
        blockDuration: policy.lockSeconds * 1000,
        getTracker: (req: Record<string, unknown>) =>
          RATE_LIMIT_TRACKERS[policy.key](req as unknown as Request),
        skipIf: (context) => !routeRateLimits(reflector, context).includes(name),
      };
    }),
  };
}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, DynamoDBDocumentClient, Reflector],
      useFactory: throttlerOptions,
    }),
  ],
})
export class RateLimitsModule {}
