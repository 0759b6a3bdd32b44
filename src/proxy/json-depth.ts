// A nesting limit for parsed request bodies. JSON.parse accepts any depth, but the proxy's own walks
// (schema cleaning, token counting, JSON.stringify) recurse, so a body nested a hundred thousand levels deep
// would overflow the stack: it is refused up front as a client error instead. Pure.

/** Deeper than any real request (tool schemas nest about 10 levels); shallow enough for every recursive walk. */
export const MAX_JSON_DEPTH = 256;

/**
 * Whether `value` nests no deeper than `limit` levels of arrays/objects. `trusted` subtrees (already checked,
 * such as the memoised tools array) are not walked again. Recursion stops at `limit`, so this cannot overflow.
 */
export function withinDepth(value: unknown, limit: number, trusted?: (node: object) => boolean): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (limit <= 0) return false;
  if (trusted?.(value)) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) if (!withinDepth(child, limit - 1, trusted)) return false;
  return true;
}
