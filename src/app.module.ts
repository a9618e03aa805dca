import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { HealthController } from './health/health.controller';
import { createDocumentClient, createDynamoDbClient } from './platform/aws/clients';
import { AWS_PRINCIPALS } from './platform/aws/principals';
import { createLogging, HTTP_LOGGER } from './platform/logging';
import { ApiDocsModule } from './platform/openapi/api-docs.module';
import { RateLimitsModule } from './platform/rate-limits/rate-limits.module';
import { SameOriginGuard } from './platform/same-origin.guard';
import { UsersModule } from './users/users.module';

/** The validated configuration and the AWS clients, shared by every feature module. */
@Global()
@Module({})
class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(DynamoDBClient) private readonly dynamodb: DynamoDBClient) {}

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: DynamoDBClient,
          useFactory: () =>
            createDynamoDbClient({ ...config.dynamodb, principal: AWS_PRINCIPALS.api }),
        },
        {
          provide: DynamoDBDocumentClient,
          inject: [DynamoDBClient],
          useFactory: (client: DynamoDBClient) => createDocumentClient(client),
        },
      ],
      exports: [APP_CONFIG, DynamoDBClient, DynamoDBDocumentClient],
    };
  }

  onApplicationShutdown(): void {
    this.dynamodb.destroy();
  }
}

@Module({})
export class AppModule {
  /** The whole API for a given configuration (the tests pass their own). */
  static forRoot(config: AppConfig): DynamicModule {
    const logging = createLogging(config.logLevel);
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        LoggerModule.forRoot(logging.params),
        RateLimitsModule,
        UsersModule,
        ...(config.http.apiDocs === 'off' ? [] : [ApiDocsModule.forRoot(config.http.apiDocs)]),
      ],
      controllers: [HealthController],
      providers: [
        { provide: HTTP_LOGGER, useValue: logging.httpLogger },
        // Before every route's own guards: a cross-site post is refused before its body is read.
        { provide: APP_GUARD, useClass: SameOriginGuard },
      ],
    };
  }
}
