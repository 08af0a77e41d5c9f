/**
 * The bridge's request guard. Every request must:
 *  - arrive on the loopback interface with a Host header naming the bridge itself (127.0.0.1:<port> or
 *    localhost:<port>), which defeats DNS rebinding;
 *  - carry no foreign Origin (browsers send Origin on every cross-origin fetch and on every POST), and no
 *    Sec-Fetch-Site: cross-site;
 *  - present the per-run random token: "Authorization: Bearer <token>" for API calls, or "?token=" on the
 *    URLs a page cannot add headers to (the entry page, its script and style, EventSource, images).
 * The token is 32 random bytes, compared in constant time, and is printed only to the terminal that ran the
 * bridge, inside the URL the user opens. It is never put in a cookie: a cookie would also be sent by other
 * pages on 127.0.0.1 (other ports are the same site).
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function sameToken(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string' || given.length !== token.length) return false;
  return crypto.timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

export interface GuardResult {
  ok: boolean;
  status?: number;
  reason?: string;
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function checkRequest(
  req: Pick<IncomingMessage, 'headers' | 'url' | 'socket'>,
  port: number,
  token: string,
): GuardResult {
  const remote = req.socket?.remoteAddress ?? '';
  if (remote && remote !== '127.0.0.1' && remote !== '::1' && remote !== '::ffff:127.0.0.1') {
    return { ok: false, status: 403, reason: 'only local connections are accepted' };
  }
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowedHosts(port).includes(host)) return { ok: false, status: 421, reason: 'unexpected Host header' };
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts(port).some((h) => origin === `http://${h}`)) {
    return { ok: false, status: 403, reason: 'cross-origin requests are refused' };
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return { ok: false, status: 403, reason: 'cross-site requests are refused' };
  const auth = req.headers.authorization;
  let given: string | null = null;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) given = auth.slice(7).trim();
  else {
    try {
      given = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
    } catch {
      given = null;
    }
  }
  if (!sameToken(given, token)) return { ok: false, status: 401, reason: 'missing or wrong token: open the URL that `npm run serve` printed' };
  return { ok: true };
}
