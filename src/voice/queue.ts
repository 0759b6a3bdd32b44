// At most `limit` transcriptions run at once (whisper is CPU-heavy); the rest wait in arrival order. A waiter
// whose signal aborts leaves the line without ever running.

export type Release = () => void;

export interface Slots {
  /** Resolves with a release function once a slot is free, or null if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Release | null>;
  readonly active: number;
  readonly waiting: number;
}

export function createSlots(limit: number): Slots {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TypeError(`concurrency must be a whole number of at least 1, got ${limit}`);
  }
  let active = 0;
  const line: Array<() => void> = [];

  const releaser = (): Release => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      active--;
      line.shift()?.();
    };
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.resolve(null);
      if (active < limit) {
        active++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve) => {
        const grant = () => {
          signal?.removeEventListener('abort', leave);
          active++;
          resolve(releaser());
        };
        const leave = () => {
          const index = line.indexOf(grant);
          if (index >= 0) line.splice(index, 1);
          resolve(null);
        };
        line.push(grant);
        signal?.addEventListener('abort', leave, { once: true });
      });
    },
    get active() {
      return active;
    },
    get waiting() {
      return line.length;
    },
  };
}
