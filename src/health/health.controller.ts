import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiSchema, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiAnswers } from '../platform/openapi/api-answers';
import { USER_KEY } from '../users/persistence/user-tables';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * How long one check's answer serves every request: a monitor polls every few seconds, and
 * a flood of requests (the endpoint is public) becomes at most one read a second per
 * instance, never one per request.
 */
export const HEALTH_CHECK_REUSE_MS = 1_000;

/** A key no user has (usernames are 3-32 of a-z, 0-9, `.`, `_`, `-`); reading it finds nothing. */
export const HEALTH_PROBE_USERNAME = '#health-probe';

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly checks: { readonly dynamodb: 'up' | 'down' };
}

@ApiSchema({ name: 'HealthChecks' })
class HealthChecksBody {
  @ApiProperty({ enum: ['up', 'down'], description: 'Whether the User table answered a read.' })
  dynamodb!: 'up' | 'down';
}

@ApiSchema({ name: 'HealthReport' })
class HealthReportBody implements HealthReport {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status!: 'ok' | 'unavailable';

  @ApiProperty({ type: () => HealthChecksBody })
  checks!: HealthChecksBody;
}

/**
 * `GET /health`: 200 when the User table answers a read made with this instance's
 * credentials, 503 when it does not. The read is a GetItem of a key no user has, with
 * the permission the API uses for every sign-in (so it needs no grant of its own and
 * proves the role can read the table), eventually consistent (half a read unit). It does
 * not prove writes, the other tables or the activation pipeline.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private last?: { readonly at: number; readonly up: Promise<boolean> };

  constructor(
    private readonly dynamodb: DynamoDBClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'checkHealth',
    summary: 'Health',
    description: `Whether this instance can read the User table with its credentials (one eventually consistent read of a key no user has, its answer reused for ${HEALTH_CHECK_REUSE_MS} ms). It does not prove writes, the other tables or the activation pipeline.`,
  })
  @ApiAnswers(
    { status: 200, json: HealthReportBody, description: 'Up: `{"status":"ok"}`.' },
    {
      status: 503,
      json: HealthReportBody,
      description: 'Down: `{"status":"unavailable"}` (not the error shape).',
    },
  )
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const up = await this.userTableAnswers();
    response.status(up ? 200 : 503);
    return { status: up ? 'ok' : 'unavailable', checks: { dynamodb: up ? 'up' : 'down' } };
  }

  /** One read at a time, its answer reused for HEALTH_CHECK_REUSE_MS. */
  private userTableAnswers(): Promise<boolean> {
    const now = Date.now();
    if (this.last && now - this.last.at < HEALTH_CHECK_REUSE_MS) return this.last.up;
    const up = this.readProbe();
    this.last = { at: now, up };
    return up;
  }

  private async readProbe(): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new GetItemCommand({
          TableName: this.config.dynamodb.tables.users,
          Key: { [USER_KEY]: { S: HEALTH_PROBE_USERNAME } },
          ProjectionExpression: USER_KEY,
        }),
        { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) },
      );
      return true;
    } catch {
      return false;
    }
  }
}
