// Why a chat platform could not start. A platform that refuses the bot (a wrong token, an intent not turned on)
// will never accept it: the relay says so in one line and exits. A platform that cannot be reached (no network
// yet at boot, the service down) is waited for, with a line in the log.

export class PlatformRefusedError extends Error {
  override name = 'PlatformRefusedError';
}

/** Waits between start attempts: 1 s, 2 s, 4 s … at most a minute. */
export function startRetryDelayMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  return 'cause' in error ? codeOf(error.cause) : undefined;
}

/** A failure that waiting can cure: the network, a timeout, the service's own 5xx or 429. */
export function isTransient(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  if (typeof error !== 'object' || error === null) return false;
  if ('status' in error && typeof error.status === 'number')
    return error.status >= 500 || error.status === 429;
  return error instanceof Error && (error.name === 'TimeoutError' || error.message === 'fetch failed');
}

/** The network error's code, or its class: never its message, which may carry a URL with a token in it. */
export function describeNetworkError(error: unknown): string {
  const code = codeOf(error);
  if (code !== undefined) return code;
  if (typeof error === 'object' && error !== null && 'status' in error) return `HTTP ${String(error.status)}`;
  return error instanceof Error ? error.name : 'network error';
}

/**
 * Logs a platform that cannot be reached: the first failure at once, then at most once a minute, so a long
 * outage reads as a few lines rather than a flood; `recovered()` says when it is back.
 */
export function createOutageLog(warn: (message: string) => void, info: (message: string) => void) {
  let since: number | null = null;
  let lastLogged = 0;
  return {
    failed(what: string, now = Date.now()): void {
      if (since === null) since = now;
      if (now - lastLogged < 60_000 && lastLogged >= since) return;
      lastLogged = now;
      warn(what);
    },
    recovered(what: string, now = Date.now()): void {
      if (since === null) return;
      info(`${what} after ${Math.round((now - since) / 1000)} s`);
      since = null;
      lastLogged = 0;
    },
  };
}
