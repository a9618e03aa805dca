/**
 * Registration, sign-in, sessions, the activation link, the password routes and the pages
 * over HTTP. Binds the core's ports to their DynamoDB
 * adapters; the core's use cases are plain classes built here by factory.
 */
import { Logger, Module } from '@nestjs/common';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  AccountActivationService,
  ActivationMailRequestService,
  Argon2idPasswordHasher,
  Clock,
  PasswordChangeService,
  PasswordHasher,
  PasswordResetRequestService,
  RegistrationService,
  SignInService,
  SystemClock,
  UserStore,
} from '../activation';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ActivationController } from './activation/activation.controller';
import { ActivationMailController } from './activation/activation-mail.controller';
import { AuthController } from './auth.controller';
import { PasswordResetController } from './password/password-reset.controller';
import { DynamoDbUserStore } from './persistence/dynamodb-user-store';
import { DynamoDbSessionStore } from './sessions/dynamodb-session-store';
import { SessionCookie } from './sessions/session-cookie';
import { SessionStore } from './sessions/session-store';
import { SessionGuard } from './sessions/session.guard';
import { UsersController } from './users.controller';
import { PagesController } from './pages/pages.controller';
import { SiteAssetsController } from './pages/site-assets.controller';

const UNREADABLE_ITEMS = new Logger('DynamoDbUserStore');

@Module({
  controllers: [
    UsersController,
    AuthController,
    ActivationController,
    ActivationMailController,
    PasswordResetController,
    PagesController,
    SiteAssetsController,
  ],
  providers: [
    { provide: Clock, useClass: SystemClock },
    { provide: PasswordHasher, useFactory: () => new Argon2idPasswordHasher() },
    {
      provide: UserStore,
      inject: [DynamoDBDocumentClient, APP_CONFIG],
      useFactory: (client: DynamoDBDocumentClient, config: AppConfig) =>
        new DynamoDbUserStore(client, config.dynamodb.tables, {
          // A request never answers 500 for odd data already in the table: the item is
          // no account to it, and an operator reads why here.
          onUnreadableItem: (error) =>
            UNREADABLE_ITEMS.error(
              { username: error.username },
              'a user item is unreadable; it counts as no account',
            ),
        }),
    },
    {
      provide: SessionStore,
      inject: [DynamoDBDocumentClient, Clock, APP_CONFIG],
      useFactory: (client: DynamoDBDocumentClient, clock: Clock, config: AppConfig) =>
        new DynamoDbSessionStore(client, config.dynamodb.tables, clock, config.session.ttlSeconds),
    },
    {
      provide: SessionCookie,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new SessionCookie(config.session),
    },
    {
      provide: RegistrationService,
      inject: [UserStore, PasswordHasher, Clock, APP_CONFIG],
      useFactory: (store: UserStore, hasher: PasswordHasher, clock: Clock, config: AppConfig) =>
        new RegistrationService(store, hasher, clock, {
          activationUrlBase: config.http.activationUrlBase,
          pendingAccountTtlSeconds: config.activation.pendingAccountTtlSeconds,
        }),
    },
    {
      provide: SignInService,
      inject: [UserStore, PasswordHasher, Clock],
      useFactory: (store: UserStore, hasher: PasswordHasher, clock: Clock) =>
        new SignInService(store, hasher, clock),
    },
    {
      provide: AccountActivationService,
      inject: [UserStore, Clock, PasswordHasher],
      useFactory: (store: UserStore, clock: Clock, hasher: PasswordHasher) =>
        new AccountActivationService(store, clock, hasher),
    },
    {
      provide: ActivationMailRequestService,
      inject: [UserStore, Clock],
      useFactory: (store: UserStore, clock: Clock) =>
        new ActivationMailRequestService(store, clock),
    },
    {
      provide: PasswordResetRequestService,
      inject: [UserStore, Clock],
      useFactory: (store: UserStore, clock: Clock) => new PasswordResetRequestService(store, clock),
    },
    {
      provide: PasswordChangeService,
      inject: [UserStore, PasswordHasher, Clock],
      useFactory: (store: UserStore, hasher: PasswordHasher, clock: Clock) =>
        new PasswordChangeService(store, hasher, clock),
    },
    SessionGuard,
  ],
  exports: [UserStore],
})
export class UsersModule {}
