import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { REFERENCE_DIR } from '../shared-dir.js';

// Generated and mutated Anthropic requests for the proxy fuzz test: structurally plausible requests with
// wrong types and missing fields, recorded real CLI requests with random damage, raw bytes (invalid UTF-8,
// truncated JSON, non-objects) and bodies over the size limit.

export interface FuzzCase {
  kind: string;
  path: '/v1/messages' | '/v1/messages/count_tokens';
  body: Buffer;
  /** Send without content-length (chunked), so the size limit is enforced while reading. */
  chunked?: boolean;
}

const REFERENCE = REFERENCE_DIR;

/** The recorded request bodies of both CLI versions (`full/*.json`), read in place. */
export function recordedBodies(): unknown[] {
  const bodies: unknown[] = [];
  for (const version of ['claude-cli-2.1.197', 'claude-cli-2.1.330']) {
    const dir = join(REFERENCE, version, 'full');
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const value: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      if (typeof value === 'object' && value !== null && 'body' in value) bodies.push(value.body);
    }
  }
  return bodies;
}

const anything = fc.jsonValue({ maxDepth: 3 });
const weird = fc.oneof(
  anything,
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
);

const block = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string(), weird) }),
  fc.record({ type: fc.constant('image'), source: fc.oneof(weird, fc.record({ type: weird, data: weird })) }),
  fc.record(
    {
      type: fc.constant('tool_use'),
      id: weird,
      name: fc.oneof(fc.constantFrom('Agent', 'Write', 'Task'), weird),
      input: weird,
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('tool_result'),
      tool_use_id: weird,
      content: fc.oneof(fc.string(), weird),
      is_error: weird,
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constantFrom('thinking', 'redacted_thinking'), thinking: weird, signature: weird }),
  fc.record({
    type: fc.constantFrom('document', 'tool_reference', 'server_tool_use', 'x-unknown'),
    source: weird,
  }),
  fc.record({ type: fc.string(), text: weird }),
  anything,
);

const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), weird),
    content: fc.oneof(fc.string(), fc.array(block, { maxLength: 6 }), weird),
  },
  { requiredKeys: [] },
);

const tool = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 12 }), weird),
    description: fc.oneof(fc.string(), weird),
    input_schema: fc.oneof(
      fc.record({ type: fc.constant('object'), properties: fc.dictionary(fc.string(), anything) }),
      weird,
    ),
    defer_loading: weird,
  },
  { requiredKeys: [] },
);

/** Anthropic-shaped requests where any field may be missing or of the wrong type. */
const generated = fc.record(
  {
    model: fc.oneof(fc.constantFrom('claude-sonnet-5', 'claude-opus-4', 'claude-haiku-4'), weird),
    max_tokens: fc.oneof(fc.integer({ min: -5, max: 200_000 }), weird),
    stream: fc.oneof(fc.boolean(), weird),
    messages: fc.oneof(fc.array(message, { minLength: 1, maxLength: 5 }), weird),
    system: fc.oneof(fc.string(), fc.array(block, { maxLength: 3 }), weird),
    tools: fc.oneof(fc.array(tool, { maxLength: 4 }), weird),
    tool_choice: fc.oneof(
      fc.record({ type: fc.constantFrom('auto', 'any', 'tool', 'none', 'x'), name: weird }),
      weird,
    ),
    thinking: fc.oneof(fc.record({ type: fc.constantFrom('enabled', 'adaptive', 'disabled') }), weird),
    temperature: weird,
    top_p: weird,
    stop_sequences: weird,
    metadata: weird,
  },
  { requiredKeys: [] },
);

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { deeper: value };
  return value;
}

const TOO_DEEP = '@@too-deep@@';
const TOO_DEEP_JSON = `${'{"d":['.repeat(2500)}0${']}'.repeat(2500)}`;

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(path);
    pathsOf(child, path, out);
  }
  return out;
}

/** Replaces (or deletes, with `undefined`) the node at `path` inside `root`, which it mutates. */
function setAt(root: unknown, path: Path, value: unknown): void {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = Reflect.get(node, key);
  }
  const last = path.at(-1);
  if (typeof node !== 'object' || node === null || last === undefined) return;
  if (value === undefined) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else Reflect.deleteProperty(node, last);
  } else Reflect.set(node, last, value);
}

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'retype', 'huge', 'deep', 'too-deep', 'unknown-type', 'utf16-junk'),
  value: weird,
  length: fc.integer({ min: 10_000, max: 120_000 }),
});

export function mutatedRecordings(bodies: unknown[]) {
  const withPaths = bodies.map((body) => ({ body, paths: pathsOf(body) }));
  return fc
    .record({ pick: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) })
    .map(({ pick, mutations }) => {
      const chosen = withPaths[pick % withPaths.length];
      const body = structuredClone(chosen?.body);
      const paths = chosen?.paths ?? [];
      for (const m of mutations) {
        const path = paths[m.at % Math.max(1, paths.length)] ?? [];
        const value = {
          delete: undefined,
          retype: m.value,
          huge: 'x'.repeat(m.length),
          deep: nested(50),
          'too-deep': TOO_DEEP, // spliced in as raw text: stringifying it would overflow this stack
          'unknown-type': { type: `x_${m.length}`, payload: m.value },
          'utf16-junk': '\ud800 lone surrogate \udfff and \u0000 nul',
        }[m.op];
        setAt(body, path, value);
      }
      return body;
    });
}

/** Every kind of input, as bytes ready to send. `limit` is the proxy's PROXY_MAX_BODY_BYTES. */
export function fuzzCases(bodies: unknown[], limit: number): fc.Arbitrary<FuzzCase> {
  const json = (kind: string, path: FuzzCase['path']) => (value: unknown) => ({
    kind,
    path,
    body: Buffer.from((JSON.stringify(value) ?? 'null').replaceAll(`"${TOO_DEEP}"`, TOO_DEEP_JSON)),
  });
  const validStart = Buffer.from(
    '{"model":"claude-sonnet-5","max_tokens":10,"messages":[{"role":"user","content":"',
  );
  return fc.oneof(
    { weight: 40, arbitrary: generated.map(json('generated', '/v1/messages')) },
    { weight: 5, arbitrary: generated.map(json('generated-count', '/v1/messages/count_tokens')) },
    { weight: 25, arbitrary: mutatedRecordings(bodies).map(json('recorded-mutated', '/v1/messages')) },
    {
      weight: 10,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({
        kind: 'invalid-utf8',
        path: '/v1/messages' as const,
        // Random bytes inside a JSON string: invalid UTF-8 and control characters included.
        body: Buffer.concat([
          validStart,
          Buffer.from(bytes.map((b) => (b === 0x22 || b === 0x5c ? 0x80 : b))),
          Buffer.from('"}]}'),
        ]),
      })),
    },
    {
      weight: 8,
      arbitrary: fc.tuple(generated, fc.nat()).map(([value, cut]) => {
        const text = Buffer.from(JSON.stringify(value));
        return {
          kind: 'truncated',
          path: '/v1/messages' as const,
          body: text.subarray(0, cut % text.length),
        };
      }),
    },
    {
      weight: 5,
      arbitrary: fc.oneof(fc.jsonValue(), fc.string()).map(json('not-an-object', '/v1/messages')),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.boolean()).map(([extra, chunked]) => ({
        kind: 'over-limit',
        path: '/v1/messages' as const,
        body: Buffer.concat([validStart, Buffer.alloc(limit + extra, 0x61), Buffer.from('"}]}')]),
        chunked,
      })),
    },
    {
      weight: 3,
      arbitrary: fc.integer({ min: 300, max: 100_000 }).map((depth) => ({
        kind: 'deep-nesting',
        path: '/v1/messages' as const,
        body: Buffer.from(
          `{"model":"m","messages":[{"role":"user","content":${'['.repeat(depth)}${']'.repeat(depth)}}]}`,
        ),
      })),
    },
  );
}
