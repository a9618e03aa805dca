/**
 * Whose request it is, for each kind of rate-limit key (see rate-limit-policies.ts). The
 * client's address is Express's `req.ip` with `trust proxy` off: locally the socket's
 * peer, on Lambda API Gateway's own `requestContext.http.sourceIp` (serverless-express
 * makes it the socket's address). A client-supplied `X-Forwarded-For` is never read.
 */
import { normalizeIp } from '@nestjs/throttler';
import type { Request } from 'express';
import { deliveryAddress, normaliseEmail, normaliseUsername } from '../../activation';
import type { RateLimitKey } from './rate-limit-policies';

/** No key: the request carries no such identifier, so this limit does not count it. */
export const NO_TRACKER = '';

const bodyField = (req: Request, field: string): string | undefined => {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
};

/** IPv6 addresses count by their /64: one host usually holds the whole block. */
export function clientAddress(req: Request): string {
  return normalizeIp(req.ip ?? req.socket.remoteAddress ?? 'unknown', 64);
}

function account(req: Request): string {
  // A signed-in route (SessionGuard ran first): the session's account, not the body's.
  const session = (req as Request & { session?: { username: string } }).session;
  const username = session?.username ?? bodyField(req, 'username');
  return username === undefined ? NO_TRACKER : normaliseUsername(username);
}

/** The identifier as typed, normalised: an address by the mailbox it reaches. */
export function normaliseIdentifier(typed: string): string {
  if (!typed.includes('@')) return normaliseUsername(typed);
  return (deliveryAddress(typed) ?? normaliseEmail(typed)).toLowerCase();
}

function identifier(req: Request): string {
  const typed = bodyField(req, 'email') ?? bodyField(req, 'username');
  return typed === undefined ? NO_TRACKER : `id:${normaliseIdentifier(typed)}`;
}

export const RATE_LIMIT_TRACKERS: Readonly<Record<RateLimitKey, (req: Request) => string>> = {
  address: clientAddress,
  account,
  'account-address': (req) => {
    const user = account(req);
    return user === NO_TRACKER ? NO_TRACKER : `${user} ${clientAddress(req)}`;
  },
  identifier,
};
