/**
 * The JSON bodies the user routes answer, as OpenAPI schemas (the core's types, such as
 * PublicUser, are plain interfaces of a framework-free core). Each class mirrors the
 * type the handler returns; the contract tests check every real answer against them.
 */
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import {
  ActivationStatus,
  EMAIL_MAX_LENGTH,
  NAME_MAX_LENGTH,
  USERNAME_MAX_LENGTH,
  USERNAME_MIN_LENGTH,
} from '../../activation';

/** A username as stored: normalised (trimmed, lower-cased) and within the rules. */
export const STORED_USERNAME = {
  pattern: `^[a-z0-9._-]{${USERNAME_MIN_LENGTH},${USERNAME_MAX_LENGTH}}$`,
  examples: ['ada.lovelace'],
} as const;

@ApiSchema({ name: 'PublicUser', description: 'What the API shows of an account.' })
export class PublicUserBody {
  @ApiProperty({
    minLength: 1,
    examples: STORED_USERNAME.examples,
    description: `Normalised: trimmed and lower-cased, \`${STORED_USERNAME.pattern}\`. An account taken over from the Spring app keeps its username as it was stored, which may break that rule (\`Edsger Dijkstra\`).`,
  })
  username!: string;

  @ApiProperty({
    description: `As registered (trimmed, Unicode NFC, at most ${EMAIL_MAX_LENGTH} characters); an internationalised domain stays readable. An account taken over from the Spring app may have one the rules refuse, or none (\`""\`).`,
    examples: ['ada@example.org'],
  })
  email!: string;

  @ApiProperty({
    examples: ['Ada Lovelace'],
    description: `1 to ${NAME_MAX_LENGTH} characters; empty only for an account taken over from the Spring app that had none.`,
  })
  name!: string;

  @ApiProperty({
    enum: Object.values(ActivationStatus),
    description:
      '`NONE`: registered, no activation mail yet; `MAIL_SENT`: a mail with a live link went out; `DONE`: activated.',
  })
  activationStatus!: ActivationStatus;
}

@ApiSchema({ name: 'SignedIn', description: 'A session started; its cookie is set.' })
export class SignedInBody {
  @ApiProperty({ type: () => PublicUserBody })
  user!: PublicUserBody;

  @ApiProperty({ format: 'date-time', description: 'When the session (and its cookie) ends.' })
  expiresAt!: string;
}

@ApiSchema({
  name: 'PasswordChanged',
  description:
    'The password is changed and every session of the account ended. `expiresAt` is there when this client got a fresh session (and cookie); without it, the password changed again meanwhile and this client is signed out too (its cookie cleared).',
})
export class PasswordChangedBody {
  @ApiProperty({ type: () => PublicUserBody })
  user!: PublicUserBody;

  @ApiProperty({ format: 'date-time', required: false })
  expiresAt?: string;
}

@ApiSchema({
  name: 'Activation',
  description: 'The account is active, and the client signed in (session cookie).',
})
export class ActivationBody {
  @ApiProperty({ description: 'As given in the request.', examples: ['ada.lovelace'] })
  username!: string;

  @ApiProperty({ enum: [ActivationStatus.DONE] })
  activationStatus!: typeof ActivationStatus.DONE;

  @ApiProperty({ description: 'Whether the account was active before this request.' })
  alreadyActive!: boolean;
}

@ApiSchema({
  name: 'RequestAccepted',
  description:
    'The same answer whatever the account: whether one exists, is pending or active is never said.',
})
export class RequestAcceptedBody {
  @ApiProperty({ description: 'What happens next, for a person.' })
  message!: string;
}

@ApiSchema({
  name: 'PasswordReset',
  description: 'The password is set; every session of the account ended. Sign in with it.',
})
export class PasswordResetBody {
  @ApiProperty({ ...STORED_USERNAME })
  username!: string;

  @ApiProperty({ enum: [true] })
  passwordChanged!: true;
}
