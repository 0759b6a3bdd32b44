import type { IncomingHttpHeaders } from 'node:http';

// A server with no key set (the proxy without PROXY_AUTH_TOKEN, the gateway without GATEWAY_API_KEYS) listens on
// loopback only, and programs on this machine are trusted. Browsers on this machine are not: a page of any site can
// POST a "simple" request (text/plain, no CORS preflight) to 127.0.0.1, which on the gateway starts a Claude Code
// session with the page's prompt, and a site whose name was rebound to 127.0.0.1 is even same-origin. Programs (the
// CLI, the SDKs, curl) address the server by a loopback name and send no Origin; a browser names the page's origin.

/** `localhost`, `127.x.y.z` or `[::1]`, with any port. */
export function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Why a keyless server refuses this request (a browser page of another site, a rebound name), or null. */
export function keylessRefusal(headers: IncomingHttpHeaders): string | null {
  if (!loopbackHost(headers.host)) {
    return `without a key this server answers only requests addressed to 127.0.0.1 or localhost, not ${
      headers.host === undefined ? 'a request without Host' : `Host: ${headers.host}`
    }`;
  }
  const origin = headers.origin;
  if (origin === undefined) return null;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined; // `null` (a sandboxed frame, a file:// page) and anything unparsable
  }
  return loopbackHost(originHost)
    ? null
    : `without a key this server refuses requests from web pages of other sites (Origin: ${origin}); set a key to allow them`;
}
