import { isRecord } from './anthropic-types.js';

// Removes JSON Schema keywords a provider rejects, recursively, without touching property *names*
// (a property called `format` or `default` is data, not a keyword); a removed `const` becomes a one-value
// `enum`. Pure; returns a new object.

const NAME_MAPS = new Set(['properties', '$defs', 'definitions']);

export function stripSchemaKeywords(
  schema: Record<string, unknown>,
  keywords: readonly string[],
): Record<string, unknown> {
  if (keywords.length === 0) return schema;
  const drop = new Set(keywords);
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isRecord(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (drop.has(key)) {
        // `const` carries meaning a model needs: keep it as the one-value `enum` every provider accepts.
        if (key === 'const' && !('enum' in node)) out.enum = [value];
        continue;
      }
      if (NAME_MAPS.has(key) && isRecord(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, walk(sub)]));
      } else {
        out[key] = walk(value);
      }
    }
    return out;
  };
  const result = walk(schema);
  return isRecord(result) ? result : schema;
}
