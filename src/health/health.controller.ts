import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const CHECK_TIMEOUT_MS = 2_000;

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly checks: { readonly dynamodb: 'up' | 'down' };
}

/** `GET /health`: 200 when DynamoDB answers for the user table, 503 when it does not. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthReport> {
    const up = await this.dynamodbAnswers();
    response.status(up ? 200 : 503).setHeader('Cache-Control', 'no-store');
    return { status: up ? 'ok' : 'unavailable', checks: { dynamodb: up ? 'up' : 'down' } };
  }

  private async dynamodbAnswers(): Promise<boolean> {
    try {
      const { Table } = await this.dynamodb.send(
        new DescribeTableCommand({ TableName: this.config.dynamodb.tables.users }),
        { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) },
      );
      return Table?.TableStatus === 'ACTIVE';
    } catch {
      return false;
    }
  }
}
