/**
 * Password hashing with Argon2id from Node's own crypto module (Node 24.7+): no native
 * add-on to build or bundle, so the same code runs in the Nest app and in Lambda.
 *
 * Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so the cost
 * can be raised later without invalidating stored hashes: each hash carries its own.
 */
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  /** Constant-time check; `false` for a malformed hash rather than an exception. */
  abstract verify(password: string, hash: string): Promise<boolean>;
}

export interface Argon2idCost {
  /** KiB of memory. */
  readonly memory: number;
  readonly passes: number;
  readonly parallelism: number;
}

/** OWASP Password Storage Cheat Sheet's first Argon2id configuration (2025). */
export const OWASP_ARGON2ID_COST: Argon2idCost = { memory: 19_456, passes: 2, parallelism: 1 };

const SALT_BYTES = 16;
const TAG_BYTES = 32;
const ARGON2_VERSION = 19;
// Refuse to verify against absurd stored costs (a corrupted or planted hash must not pin a CPU).
const MAX_MEMORY_KIB = 1 << 20;
const MAX_PASSES = 10;
const MAX_PARALLELISM = 16;

const PHC_PATTERN =
  /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(
  password: string,
  salt: Buffer,
  cost: Argon2idCost,
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        // NFC, so that the same password typed on different systems gives the same bytes.
        message: password.normalize('NFC'),
        nonce: salt,
        tagLength,
        memory: cost.memory,
        passes: cost.passes,
        parallelism: cost.parallelism,
      },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

export class Argon2idPasswordHasher extends PasswordHasher {
  constructor(private readonly cost: Argon2idCost = OWASP_ARGON2ID_COST) {
    super();
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, this.cost, TAG_BYTES);
    const { memory, passes, parallelism } = this.cost;
    return `$argon2id$v=${ARGON2_VERSION}$m=${memory},t=${passes},p=${parallelism}$${b64(salt)}$${b64(key)}`;
  }

  async verify(password: string, hash: string): Promise<boolean> {
    const match = PHC_PATTERN.exec(hash);
    if (!match) return false;
    const [, version, memory, passes, parallelism, salt, expected] = match;
    const cost = {
      memory: Number(memory),
      passes: Number(passes),
      parallelism: Number(parallelism),
    };
    if (
      Number(version) !== ARGON2_VERSION ||
      cost.memory > MAX_MEMORY_KIB ||
      cost.passes > MAX_PASSES ||
      cost.parallelism > MAX_PARALLELISM
    ) {
      return false;
    }
    const expectedKey = Buffer.from(expected!, 'base64');
    let actualKey: Buffer;
    try {
      actualKey = await derive(password, Buffer.from(salt!, 'base64'), cost, expectedKey.length);
    } catch {
      // Values argon2 refuses (memory under 8 KiB, no passes, a salt or tag too short): malformed.
      return false;
    }
    return timingSafeEqual(actualKey, expectedKey);
  }
}
