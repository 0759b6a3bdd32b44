import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import {
  assertAnthropicStream,
  parseAnthropicSse,
  type RunningProxy,
  startProxy,
} from '../../src/proxy/index.js';
import { type FakeUpstream, startFakeUpstream, textReply } from '../fakes/openai-upstream.js';
import { type FuzzCase, fuzzCases, recordedBodies } from './proxy-fuzz-inputs.js';

// At least 10,000 generated and mutated requests thrown at the running proxy over HTTP: every answer is 2xx
// or an Anthropic-shaped 4xx, never a 5xx or a crash, and the heap (after GC) is as large after the last
// thousand as after the first. Valid requests reach a fake upstream that answers at once.

const SEED = 7_310_226;
const TOTAL = 10_000;
const BATCH = 1000;
const PARALLEL = 16;
const LIMIT = 256 * 1024;

setFlagsFromString('--expose-gc');
const collectGarbage: unknown = runInNewContext('gc'); // a fresh context sees the flag just set

function heapAfterGc(): number {
  if (typeof collectGarbage === 'function') {
    collectGarbage();
    collectGarbage();
  }
  return process.memoryUsage().heapUsed;
}

let upstream: FakeUpstream;
let proxy: RunningProxy;
const agent = new Agent({ connections: PARALLEL, keepAliveTimeout: 30_000 });

beforeAll(async () => {
  upstream = await startFakeUpstream(() => textReply('fine'), { record: false });
  const env = {
    PORT: '0',
    PROVIDER_TYPE: 'openai',
    OPENAI_BASE_URL: upstream.url,
    MODEL: 'fake-model',
    PROVIDER_RATE_LIMIT: '1000000',
    PROVIDER_MAX_CONCURRENCY: '1000',
    PROXY_MAX_BODY_BYTES: String(LIMIT),
  };
  proxy = await startProxy({ config: loadConfig(env, tmpdir()).proxy, logger: createLogger('silent', []) });
});

afterAll(async () => {
  await agent.close();
  await proxy?.close();
  await upstream?.close();
});

/** Why an answer breaks the rules, or undefined if it is fine. */
function judge(status: number, contentType: string, text: string, input: FuzzCase): string | undefined {
  if (status >= 500) return `status ${status}`;
  if (status >= 400) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return `${status} with a body that is not JSON`;
    }
    const error = typeof value === 'object' && value !== null && 'error' in value ? value.error : undefined;
    const shaped =
      typeof value === 'object' &&
      value !== null &&
      'type' in value &&
      value.type === 'error' &&
      typeof error === 'object' &&
      error !== null &&
      'type' in error &&
      typeof error.type === 'string' &&
      'message' in error &&
      typeof error.message === 'string';
    return shaped ? undefined : `${status} not Anthropic-shaped`;
  }
  if (status < 200 || status >= 300) return `status ${status}`;
  if (contentType.startsWith('text/event-stream')) {
    try {
      assertAnthropicStream(parseAnthropicSse(text));
    } catch (error) {
      return `invalid stream: ${String(error)}`;
    }
  } else if (input.kind !== 'invalid-utf8' && !text.startsWith('{'))
    return 'a 2xx that is neither SSE nor JSON';
  return undefined;
}

async function fire(input: FuzzCase, statuses: Map<number, number>): Promise<string | undefined> {
  try {
    const res = await request(`${proxy.url}${input.path}?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: input.chunked ? Readable.from([input.body]) : input.body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    return judge(res.statusCode, String(res.headers['content-type'] ?? ''), text, input);
  } catch (error) {
    return `no answer: ${String(error)}`;
  }
}

describe('proxy under bad input', () => {
  it(`answers ${TOTAL} generated and mutated requests with 2xx or Anthropic-shaped 4xx, memory flat`, async () => {
    process.stdout.write(`proxy fuzz seed ${SEED}\n`);
    const bodies = recordedBodies();
    const cases = fuzzCases(bodies, LIMIT);
    const failures: string[] = [];
    const kinds = new Map<string, number>();
    const statuses = new Map<number, number>();
    const heaps: number[] = [];
    for (let done = 0, round = 0; done < TOTAL; done += BATCH, round++) {
      const batch = fc.sample(cases, { seed: SEED + round, numRuns: BATCH });
      let next = 0;
      const worker = async () => {
        for (let input = batch[next++]; input; input = batch[next++]) {
          kinds.set(input.kind, (kinds.get(input.kind) ?? 0) + 1);
          const problem = await fire(input, statuses);
          if (problem && failures.length < 10)
            failures.push(
              `${input.kind} (seed ${SEED + round}): ${problem} ← ${input.body.subarray(0, 300).toString()}`,
            );
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, worker));
      if (round === 0 || done + BATCH >= TOTAL) heaps.push(heapAfterGc());
    }
    process.stdout.write(`proxy fuzz kinds ${JSON.stringify(Object.fromEntries(kinds))}\n`);
    process.stdout.write(`proxy fuzz statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    const [first = 0, last = 0] = heaps;
    process.stdout.write(
      `proxy fuzz heap after GC: first thousand ${(first / 2 ** 20).toFixed(1)} MB, last ${(last / 2 ** 20).toFixed(1)} MB\n`,
    );
    expect(failures).toEqual([]);
    // Both outcomes must really occur, or the generators have drifted into testing nothing.
    expect(statuses.get(200)).toBeGreaterThan(TOTAL / 10);
    expect(statuses.get(400)).toBeGreaterThan(TOTAL / 10);
    expect(statuses.get(413)).toBeGreaterThan(0);
    expect([...kinds.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(TOTAL);
    expect(typeof collectGarbage).toBe('function');
    // Flat: the tools memo holds at most 8 arrays (a few MB, filled during the first thousand already);
    // a leak of even 1 KB per request would add about 9 MB over the remaining 9,000.
    expect(last - first).toBeLessThan(4 * 2 ** 20);
    const health = await request(`${proxy.url}/health`, { dispatcher: agent });
    expect(await health.body.json()).toEqual({ status: 'ok' });
  }, 120_000);
});
