import { PasswordHasher } from '..';

const PREFIX = '$fake$';

const encode = (password: string) =>
  PREFIX + Buffer.from(password.normalize('NFC'), 'utf8').toString('hex');

/**
 * A fast, deterministic stand-in for Argon2idPasswordHasher in tests of the use cases.
 * Like the real one it brings the password to NFC and answers `false` (never throws) for
 * a hash it did not make. Not a hash at all: never use outside tests.
 */
export class FakePasswordHasher extends PasswordHasher {
  async hash(password: string): Promise<string> {
    return encode(password);
  }

  async verify(password: string, hash: string): Promise<boolean> {
    return hash === encode(password);
  }
}
