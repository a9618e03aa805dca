/**
 * The Step Functions execution name for a mail request. Derived from the stream record,
 * so the same record delivered twice (streams deliver at least once), and every later
 * record of the same open request, get the same name, and StartExecution refuses the
 * second: one execution, one mail.
 *
 * `mailRequestId` names the request; records written before requests had ids are named
 * after the registration alone (`username`, `createdAt`, as they always were), so that a
 * username registered again after a deletion gets a new execution. Names are 1-80 characters of `A-Za-z0-9-_`: a readable prefix from the
 * username, then 16 hex digits of SHA-256 (64 bits) that keep sanitised prefixes apart.
 */
import { createHash } from 'node:crypto';

const PREFIX_MAX_LENGTH = 40;
const HASH_HEX_DIGITS = 16;

export function executionNameFor(
  username: string,
  createdAt: string,
  mailRequestId?: string,
): string {
  const prefix = username.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, PREFIX_MAX_LENGTH) || 'user';
  const parts =
    mailRequestId === undefined ? [username, createdAt] : [username, createdAt, mailRequestId];
  const hash = createHash('sha256')
    .update(JSON.stringify(parts), 'utf8')
    .digest('hex')
    .slice(0, HASH_HEX_DIGITS);
  return `${prefix}-${hash}`;
}
