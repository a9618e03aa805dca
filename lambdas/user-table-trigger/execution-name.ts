/**
 * The Step Functions execution name for a user's registration. Derived from the stream
 * record, so the same record delivered twice (streams deliver at least once) gets the
 * same name, and StartExecution refuses the second: one execution, one mail.
 *
 * `createdAt` is part of it so that a username registered again after a deletion gets a
 * new execution. Names are 1-80 characters of `A-Za-z0-9-_`: a readable prefix from the
 * username, then 16 hex digits of SHA-256 (64 bits) that keep sanitised prefixes apart.
 */
import { createHash } from 'node:crypto';

const PREFIX_MAX_LENGTH = 40;
const HASH_HEX_DIGITS = 16;

export function executionNameFor(username: string, createdAt: string): string {
  const prefix = username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, PREFIX_MAX_LENGTH) || 'user';
  const hash = createHash('sha256')
    .update(JSON.stringify([username, createdAt]), 'utf8')
    .digest('hex')
    .slice(0, HASH_HEX_DIGITS);
  return `${prefix}-${hash}`;
}
