import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Token authentication without sending the token: the client asks the coordinator for a fresh single-use nonce
 * (GET /auth/nonce), then opens the WebSocket with `Authorization: Nabla-HMAC role=…, nonce=…, mac=…` where
 * mac = HMAC-SHA256(token, "nabla-auth/1|" + role + "|" + nonce). A replayed header fails: its nonce is spent.
 */
export const AUTH_SCHEME = 'Nabla-HMAC';
export const NONCE_PATH = '/auth/nonce';
export type Role = 'worker' | 'monitor';

export function authMac(token: string, role: Role, nonce: string): string {
  return createHmac('sha256', token).update(`nabla-auth/1|${role}|${nonce}`).digest('hex');
}

export function authorizationHeader(token: string, role: Role, nonce: string): string {
  return `${AUTH_SCHEME} role=${role}, nonce=${nonce}, mac=${authMac(token, role, nonce)}`;
}

/** Parses the Authorization header; null when it is absent or not ours. */
export function parseAuthorization(header: string | undefined): { role: string; nonce: string; mac: string } | null {
  if (!header?.startsWith(`${AUTH_SCHEME} `)) return null;
  const fields = new Map(header.slice(AUTH_SCHEME.length + 1).split(',').map((part) => {
    const [key, ...value] = part.trim().split('=');
    return [key, value.join('=')] as const;
  }));
  const role = fields.get('role'), nonce = fields.get('nonce'), mac = fields.get('mac');
  return role && nonce && mac ? { role, nonce, mac } : null;
}

/** Single-use nonces that expire; bounded so a flood of nonce requests cannot grow memory without limit. */
export class NonceStore {
  private readonly issued = new Map<string, number>();

  constructor(private readonly ttlMs = 30_000, private readonly capacity = 10_000) {}

  issue(nowMs = Date.now()): string {
    if (this.issued.size >= this.capacity) this.expire(nowMs);
    if (this.issued.size >= this.capacity) this.issued.delete(this.issued.keys().next().value as string);
    const nonce = randomBytes(18).toString('base64url');
    this.issued.set(nonce, nowMs + this.ttlMs);
    return nonce;
  }

  /** True once per issued, unexpired nonce. */
  consume(nonce: string, nowMs = Date.now()): boolean {
    const expiry = this.issued.get(nonce);
    this.issued.delete(nonce);
    return expiry !== undefined && expiry >= nowMs;
  }

  private expire(nowMs: number): void {
    for (const [nonce, expiry] of this.issued) if (expiry < nowMs) this.issued.delete(nonce);
  }
}

/** Checks an Authorization header against the token: the role it proved, or why it fails. */
export function verifyAuthorization(header: string | undefined, token: string, nonces: NonceStore): { role: Role } | { failure: string } {
  const auth = parseAuthorization(header);
  if (!auth) return { failure: 'missing credentials: start the worker or monitor with --token (or NABLA_TOKEN) set to the coordinator\'s token' };
  if (auth.role !== 'worker' && auth.role !== 'monitor') return { failure: `unknown role "${auth.role.slice(0, 20)}"` };
  if (!nonces.consume(auth.nonce)) return { failure: 'unknown, expired or already used nonce (a replayed handshake?)' };
  const expected = Buffer.from(authMac(token, auth.role, auth.nonce), 'hex');
  const given = Buffer.from(auth.mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { failure: 'wrong token' };
  return { role: auth.role };
}

/** Whether a listen host only accepts connections from this machine (no token needed there by default). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
