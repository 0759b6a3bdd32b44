// Why a chat platform could not start. A refused token will never work: the relay says so in one line and
// exits. Anything else (no network yet at boot, the service down) is waited out, with a line in the log.

export class PlatformAuthError extends Error {
  override name = 'PlatformAuthError';
}

/** Waits between start attempts: 1 s, 2 s, 4 s … at most a minute. */
export function startRetryDelayMs(attempt: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
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
