// A promise with its resolve and reject at hand: every caller of a coalesced operation waits on one of these.

export interface Waiter<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function createWaiter<T>(): Waiter<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Failures are logged and counted in stats(); a caller that fires and forgets must not crash the process.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
