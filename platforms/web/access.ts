import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { loopbackHost, sameSecret } from '../../src/common/index.js';

// Who may use the console. Without PROXY_AUTH_TOKEN it is open to whoever reaches the port by a loopback name
// (HOST is loopback then; any other HOST requires the token). With it, the page asks for the token once and the relay
// answers with a session cookie the page's script cannot read (HttpOnly) and other sites' pages do not send
// (SameSite=Strict). Every request that changes something must also come from the console's own origin.

export const SESSION_COOKIE = 'relay_console';

export interface ConsoleAccess {
  readonly needsLogin: boolean;
  /** Whether the request carries a session of this run (always true without a token). */
  admitted(req: IncomingMessage): boolean;
  /** A new session's Set-Cookie header for the right token; null for a wrong one. */
  login(token: string): string | null;
}

export function createConsoleAccess(authToken: string | undefined): ConsoleAccess {
  const sessions = new Set<string>();
  return {
    needsLogin: authToken !== undefined,
    admitted(req) {
      // Open without a token, but only to pages loaded from this machine by its own name: a site whose name was
      // pointed at 127.0.0.1 (DNS rebinding) would otherwise be same-origin with the console.
      if (authToken === undefined) return loopbackHost(req.headers.host);
      const session = cookieOf(req, SESSION_COOKIE);
      return session !== undefined && sessions.has(session);
    },
    login(token) {
      if (authToken === undefined || !sameSecret(authToken, token)) return null;
      const session = randomBytes(32).toString('hex');
      sessions.add(session);
      return `${SESSION_COOKIE}=${session}; Path=/ui; HttpOnly; SameSite=Strict`;
    },
  };
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/**
 * A state-changing request must name the console's own origin: the Host it was sent to. A page of another
 * site (or a request that names no origin) is refused, whatever cookie it carries.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (typeof origin !== 'string' || host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host;
  } catch {
    return false;
  }
}
