import { randomUUID } from 'node:crypto';
import type { ProviderDescriptor } from '../providers.js';
import { isRecord } from './anthropic-types.js';
import { MAX_JSON_DEPTH, withinDepth } from './json-depth.js';
import { findTopLevelValue } from './json-scan.js';
import { type OpenAiTool, toOpenAiTools } from './request-to-openai.js';

// The CLI sends the same tools array (30–65 KB, most of every request body) on every turn. Decoding, parsing,
// converting, serialising and encoding it each time was most of the proxy's added latency, so it is done
// once per distinct array: a later body whose tools bytes are identical (a memcmp, exact, never a guess)
// reuses the parsed array, its conversion per provider and the encoded JSON. Bounded: a few arrays at most.

const TOOLS_KEY = Buffer.from('"tools"');
const CLOSE = Buffer.from('}');
/** Smaller arrays cost little to parse; remembering them would only churn the memo. */
const MIN_BYTES = 512;

export interface ToolsMemo {
  /** JSON.parse of a request body, reusing a recently seen tools array. Throws JSON.parse's SyntaxError. */
  parseBody(raw: Buffer): unknown;
  /** `toOpenAiTools`, computed once per (tools array, provider). */
  convertTools(tools: unknown, provider: ProviderDescriptor): readonly OpenAiTool[];
  /** JSON bytes of an outgoing body, in pieces to send in order; a memoised tools array goes in already encoded. */
  serialize(body: Record<string, unknown>): Buffer[];
  readonly stats: { hits: number; misses: number };
}

interface Seen {
  bytes: Buffer;
  parsed: unknown[];
  /** How many bytes followed the array in the body it was last found in. */
  tail: number;
}

/**
 * Where `entry.bytes` is in `raw`, or -1. The CLI's fields after `tools` keep their size from turn to turn
 * (only the messages before it grow), so the array usually ends as far from the end of the body as last
 * time: one comparison there instead of a search through the whole body. The caller verifies either way.
 */
function locate(raw: Buffer, entry: Seen): number {
  const guess = raw.length - entry.tail - entry.bytes.length;
  const length = entry.bytes.length;
  if (guess >= 0 && raw.compare(entry.bytes, 0, length, guess, guess + length) === 0) return guess;
  return raw.indexOf(entry.bytes); // native search; cheaper than walking the JSON
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const item of Object.values(value)) deepFreeze(item);
}

export function createToolsMemo(options: { maxArrays?: number } = {}): ToolsMemo {
  const maxArrays = options.maxArrays ?? 8;
  const sentinel = `relay-tools-memo-${randomUUID()}`; // unguessable, so no body can fake a hit
  const sentinelJson = JSON.stringify(sentinel);
  const seen: Seen[] = []; // most recently used first
  const converted = new WeakMap<object, Map<string, readonly OpenAiTool[]>>();
  const encoded = new WeakMap<object, Buffer>();
  const stats = { hits: 0, misses: 0 };

  function remember(bytes: Buffer, parsed: unknown[], tail: number): void {
    deepFreeze(parsed); // shared by later requests: nothing may change it
    seen.unshift({ bytes: Buffer.from(bytes), parsed, tail }); // a copy: `bytes` is a view into the request body
    if (seen.length > maxArrays) seen.pop();
  }

  return {
    stats,
    parseBody(raw) {
      for (const [at, entry] of seen.entries()) {
        const start = locate(raw, entry);
        if (start === -1) continue;
        // Put the unguessable sentinel where the bytes matched. Only if JSON.parse then shows it as the
        // top-level `tools` (the one JSON.parse keeps) was the match that value; a match inside a string or a
        // nested object breaks the JSON or leaves `tools` alone, and the body is parsed in full instead.
        const end = start + entry.bytes.length;
        let value: unknown;
        try {
          value = JSON.parse(`${raw.toString('utf8', 0, start)}${sentinelJson}${raw.toString('utf8', end)}`);
        } catch {
          break;
        }
        if (!isRecord(value) || value.tools !== sentinel) break;
        stats.hits++;
        entry.tail = raw.length - end;
        if (at > 0) seen.unshift(...seen.splice(at, 1));
        value.tools = entry.parsed;
        return value;
      }
      const value: unknown = JSON.parse(raw.toString('utf8'));
      // Only sizeable arrays fit to be trusted later (see server.ts) are remembered; deepFreeze recurses too.
      if (isRecord(value) && Array.isArray(value.tools) && withinDepth(value.tools, MAX_JSON_DEPTH - 1)) {
        const range = findTopLevelValue(raw, TOOLS_KEY);
        if (range && range.end - range.start >= MIN_BYTES) {
          stats.misses++;
          remember(raw.subarray(range.start, range.end), value.tools, raw.length - range.end);
        }
      }
      return value;
    },
    convertTools(tools, provider) {
      if (typeof tools !== 'object' || tools === null) return toOpenAiTools(tools, provider);
      let byProvider = converted.get(tools);
      if (!byProvider) {
        byProvider = new Map();
        converted.set(tools, byProvider);
      }
      let result = byProvider.get(provider.id);
      if (!result) {
        const fresh = toOpenAiTools(tools, provider);
        deepFreeze(fresh);
        byProvider.set(provider.id, fresh);
        result = fresh;
      }
      return result;
    },
    serialize(body) {
      const { tools, ...rest } = body;
      const cached = typeof tools === 'object' && tools !== null ? tools : undefined;
      if (!cached || !Object.isFrozen(cached)) return [Buffer.from(JSON.stringify(body))];
      let json = encoded.get(cached);
      if (!json) {
        json = Buffer.from(JSON.stringify(cached));
        encoded.set(cached, json);
      }
      const head = JSON.stringify(rest); // an object, so it ends in '}'
      const open = head.length > 2 ? `${head.slice(0, -1)},"tools":` : '{"tools":';
      return [Buffer.from(open), json, CLOSE]; // no copy of the tools bytes
    },
  };
}
