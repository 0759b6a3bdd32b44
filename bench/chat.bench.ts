import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PLATFORMS, startPlatforms } from '../platforms/index.js';
import { createSessionEngine } from '../sessions/index.js';
import type { SessionEngine } from '../sessions/types.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type ApiCall, type FakeTelegram, startFakeTelegram } from '../test/fakes/telegram-api.js';
import { FAKE_CLI } from '../test/sessions/harness.js';
import type { BenchRow } from './types.js';

// The chat path end to end in real time: the real session engine (running the replay CLI, so the figures are
// the relay's and not a model's) → controller → outbox → grammy → the fake Telegram Bot API over HTTP, at the
// default rate of one call per second per chat. Measures event → edit request, the calls per chat in any
// window, and how long ten sessions streaming in one chat wait for their final states after they end.

const RUN = '23-partial-tool-bash';
const RATE = { count: 1, windowMs: 1000 }; // the default MESSAGING_RATE_LIMIT / MESSAGING_RATE_WINDOW
const USER = 5150;
const WRITES = new Set(['sendMessage', 'editMessageText', 'deleteMessage']);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

interface Relay {
  fake: FakeTelegram;
  engine: SessionEngine;
  /** performance.now() of every engine event, per node. */
  events: Map<string, number[]>;
  /** performance.now() of each node's outcome (its session ended). */
  ends: Map<string, number>;
  stop(): Promise<void>;
}

async function startRelay(dir: string): Promise<Relay> {
  const fake = await startFakeTelegram();
  const logger = createLogger('silent', []);
  const config = loadConfig(
    {
      PROVIDER_TYPE: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_API_KEY: 'sk-unused',
      MODEL: 'fake-model',
      CLAUDE_BIN: FAKE_CLI,
      CLAUDE_WORKSPACE: join(dir, 'workspace'),
      SESSION_STORE_URL: `sqlite://${join(dir, 'sessions.sqlite')}`,
      TELEGRAM_BOT_TOKEN: fake.token,
      ALLOWED_TELEGRAM_USER_ID: String(USER),
      TELEGRAM_API_ROOT: fake.apiRoot,
    },
    dir,
    PLATFORMS,
  );
  mkdirSync(config.sessions.workspace, { recursive: true });
  mkdirSync(join(dir, 'home'), { recursive: true });
  const engine = createSessionEngine({
    config: config.sessions,
    proxy: { url: 'http://127.0.0.1:9', authToken: undefined },
    logger,
    childEnv: { HOME: join(dir, 'home') },
    inheritedEnv: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
  });
  const events = new Map<string, number[]>();
  const ends = new Map<string, number>();
  engine.subscribe((node, event) => {
    const at = performance.now();
    events.set(node.id, [...(events.get(node.id) ?? []), at]);
    if (event.type === 'outcome') ends.set(node.id, at);
  });
  const platforms = await startPlatforms({
    config: { ...config.messaging, rateLimit: RATE },
    engine,
    transcriber: {
      maxBytes: 1,
      transcribe: async () => ({ ok: true, text: '', timings: { decodeMs: 0, whisperMs: 0 } }),
    },
    voiceEnabled: false,
    proxyStats: () => ({ providers: [] }),
    logger,
  });
  return {
    fake,
    engine,
    events,
    ends,
    async stop() {
      await platforms.stop();
      await engine.close();
      await fake.close();
    },
  };
}

/** Sends prompts as the user and waits until every task's answer is out and nothing more is being sent. */
async function runTasks(relay: Relay, prompts: string[]): Promise<string[]> {
  const messageIds = prompts.map((text) =>
    String(relay.fake.sendUserMessage({ userId: USER, text }).messageId),
  );
  const nodeOf = (id: string) =>
    relay.engine.findNodeByMessage({ platform: 'telegram', chatId: String(USER), messageId: id });
  for (;;) {
    await new Promise((done) => setTimeout(done, 250));
    const nodes = messageIds.map(nodeOf);
    const ended = nodes.every((node) => node && relay.ends.has(node.id));
    const lastWrite = relay.fake.calls.filter((call) => WRITES.has(call.method)).at(-1)?.at ?? 0;
    if (ended && performance.now() - lastWrite > 3 * RATE.windowMs) break;
  }
  return messageIds.map((id) => nodeOf(id)?.id ?? '');
}

const statusIdOf = (relay: Relay, nodeId: string): number =>
  Number(relay.engine.getNode(nodeId)?.messages.find((m) => m.role === 'status')?.ref.messageId);

const editsOf = (relay: Relay, statusId: number): ApiCall[] =>
  relay.fake.calls.filter(
    (call) => call.method === 'editMessageText' && call.payload.message_id === statusId,
  );

export default async function bench(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-'));
  const relay = await startRelay(dir);
  try {
    // One task whose CLI prints a line every 1.1 s: slower than the rate, so each edit reflects one event.
    const [single = ''] = await runTasks(relay, [`[fake:run=${RUN}] [fake:delay=1100] one task`]);
    const times = relay.events.get(single) ?? [];
    const edits = editsOf(relay, statusIdOf(relay, single)).map((call) => call.at);
    const latencies: number[] = [];
    times.forEach((at, index) => {
      const next = times[index + 1] ?? Number.POSITIVE_INFINITY;
      const edit = edits.find((editAt) => editAt >= at);
      if (edit !== undefined && edit < next) latencies.push(edit - at);
    });

    // The same task printing every 100 ms, ten times faster than the chat's rate: the limiter holds edits back and
    // merges them, so each event waits for the next edit the limiter lets through.
    const [fast = ''] = await runTasks(relay, [`[fake:run=${RUN}] [fake:delay=100] fast task`]);
    const fastEdits = editsOf(relay, statusIdOf(relay, fast)).map((call) => call.at);
    const throttled = (relay.events.get(fast) ?? []).flatMap((at) => {
      const edit = fastEdits.find((editAt) => editAt >= at);
      return edit === undefined ? [] : [edit - at];
    });
    const p95 = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)] ?? Number.NaN;

    // Ten tasks streaming in one chat at once.
    const startCalls = relay.fake.calls.length;
    const ten = await runTasks(
      relay,
      Array.from({ length: 10 }, (_, i) => `[fake:run=${RUN}] [fake:delay=60] task ${i}`),
    );
    const perTask = ten.map((nodeId) => {
      const finalAt = Math.max(...editsOf(relay, statusIdOf(relay, nodeId)).map((call) => call.at));
      return finalAt - (relay.ends.get(nodeId) ?? finalAt);
    });
    const lastEnd = Math.max(...ten.map((nodeId) => relay.ends.get(nodeId) ?? 0));
    const tenWrites = relay.fake.calls.slice(startCalls).filter((call) => WRITES.has(call.method));
    const afterLastEnd = Math.max(...tenWrites.map((call) => call.at)) - lastEnd;
    const pendingAtLastEnd = tenWrites.filter((call) => call.at >= lastEnd).length;
    // Arrivals at the server, in a window of exactly MESSAGING_RATE_WINDOW: what Telegram itself would count.
    const writeTimes = relay.fake.calls.filter((call) => WRITES.has(call.method)).map((call) => call.at);
    const maxCalls = maxInWindow(writeTimes, RATE.windowMs);
    const minGap = Math.min(...writeTimes.slice(1).map((at, i) => at - (writeTimes[i] ?? 0)));
    const perPendingTarget = Math.max(1, pendingAtLastEnd) * RATE.windowMs;
    return [
      {
        part: 'chat',
        name: 'event → edit request at the fake Bot API, median (1 task, rate 1/1 s)',
        value: Math.round(median(latencies)),
        unit: 'ms',
        target: '< 1000 ms',
        ok: median(latencies) < 1000,
        note: `real engine + replay CLI + grammy over HTTP; ${latencies.length} events 1.1 s apart (the limiter idle)`,
      },
      {
        part: 'chat',
        name: 'event → first edit after it, p95, events every 100 ms (limiter at 1/1 s)',
        value: Math.round(p95(throttled)),
        unit: 'ms',
        target: '< 1100 ms (one window + 100 ms)',
        ok: p95(throttled) < 1100,
        note: `median ${Math.round(median(throttled))} ms; ${throttled.length} events, ${fastEdits.length} edits`,
      },
      {
        part: 'chat',
        name: 'max sends + edits per chat in any 1 s window (arrivals at the Bot API)',
        value: maxCalls,
        unit: 'calls',
        target: `≤ ${RATE.count}`,
        ok: maxCalls <= RATE.count,
        note: `${writeTimes.length} calls; smallest gap between two arrivals ${minGap.toFixed(1)} ms`,
      },
      {
        part: 'chat',
        name: `10 sessions in one chat: all final states after the last one ends (${pendingAtLastEnd} calls owed)`,
        value: Math.round(afterLastEnd),
        unit: 'ms',
        target: `≤ ${perPendingTarget} ms (1 window per owed call)`,
        ok: afterLastEnd <= perPendingTarget,
      },
      {
        part: 'chat',
        name: '10 sessions in one chat: session end → its final state, median',
        value: Math.round(median(perTask)),
        unit: 'ms',
        note: `max ${Math.round(Math.max(...perTask))} ms; the chat's 1 call/s is shared by every task`,
      },
    ];
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
