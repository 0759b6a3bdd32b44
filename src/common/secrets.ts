import { timingSafeEqual } from 'node:crypto';

// Checking a presented key or token: the same for the proxy and the gateway.

/** Compares in constant time: neither the content nor the length of `expected` leaks through timing. */
export function sameSecret(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return timingSafeEqual(a, b.length === a.length ? b : a) && b.length === a.length;
}

/** The key a request presents: `x-api-key`, else the bearer token of `Authorization`. */
export function presentedKey(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  const auth = headers.authorization;
  return typeof auth === 'string' && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, '') : undefined;
}
