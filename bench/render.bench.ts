import { performance } from 'node:perf_hooks';
import { type ChatTransport, type Clock, createOutbox } from '../platforms/outbox/index.js';
import {
  createTaskView,
  type Formatted,
  reduceTaskView,
  renderFinal,
  renderMarkdown,
  renderStatus,
  type TaskView,
} from '../platforms/render/index.js';
import { telegramHtml } from '../platforms/telegram/index.js';
import type { NodeSnapshot, ProgressEvent } from '../sessions/types.js';
import { createLogger } from '../src/log.js';
import type { BenchRow } from './types.js';

// Render cadence: session events → renderStatus → outbox.edit → a fake chat transport that records when each
// request arrives. Time is real but scaled: 1 virtual second = 1000/SCALE real ms, so a 1 s rate window costs
// 100 ms of wall time; figures are reported in virtual ms (timer jitter of ~1 real ms ≈ SCALE virtual ms).

const SCALE = 10;
const RATE = { count: 1, windowMs: 1000 }; // the default MESSAGING_RATE_LIMIT / MESSAGING_RATE_WINDOW
const LIMITS = { dialect: telegramHtml, maxLength: 4096 } as const;

function scaledClock(): Clock {
  const origin = performance.now();
  return {
    now: () => (performance.now() - origin) * SCALE,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, Math.max(0, ms) / SCALE);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so every run streams the same events. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Arrival {
  at: number;
  kind: 'send' | 'edit';
  chatId: string;
  messageId: string;
  text: string;
}

function recordingTransport(clock: Clock, arrivals: Arrival[]): ChatTransport {
  let next = 1;
  return {
    async send(chatId, text) {
      const messageId = String(next++);
      arrivals.push({ at: clock.now(), kind: 'send', chatId, messageId, text });
      return { messageId };
    },
    async edit(chatId, messageId, text) {
      arrivals.push({ at: clock.now(), kind: 'edit', chatId, messageId, text });
    },
    async delete() {},
  };
}

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
function snapshot(id: string): NodeSnapshot {
  return {
    id,
    treeId: id,
    parentId: null,
    prompt: 'bench',
    state: 'running',
    queuePosition: null,
    sessionId: null,
    workingDirectory: '/w',
    messages: [],
    createdAt: 0,
    startedAt: 0,
    finishedAt: null,
    costUsd: 0,
    usage: zero,
    outcome: null,
  };
}

function progressEvent(rand: () => number, i: number): ProgressEvent {
  const r = rand();
  if (r < 0.3) return { type: 'thinking', text: `thinking step ${i} about the <problem> & its fix` };
  if (r < 0.6) return { type: 'tool_call', toolUseId: `t${i}`, name: 'Read', summary: `src/file${i}.ts` };
  if (r < 0.8) return { type: 'tool_result', toolUseId: `t${i - 1}`, isError: false, summary: 'ok' };
  return { type: 'text', text: `partial answer ${i} with **bold** text` };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

function maxInWindow(arrivals: Arrival[], windowMs: number): number {
  let max = 0;
  const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    // Timer jitter can land a call a hair early in scaled time; allow 1 virtual ms per SCALE.
    while ((times[end] as number) - (times[start] as number) >= windowMs - SCALE) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

interface Task {
  messageId: string;
  view: TaskView;
  lastText: string;
  /** Virtual time of each status change, waiting for an edit that shows it. */
  waiting: Array<{ at: number; text: string }>;
}

/** Streams `tasks` tasks into one chat; returns the arrivals, per-event latencies and the end figures. */
async function stream(tasks: number, seed: number) {
  const clock = scaledClock();
  const arrivals: Arrival[] = [];
  const transport = recordingTransport(clock, arrivals);
  const latencies: number[] = [];
  const pendingByText = new Map<string, Task>();
  const outbox = createOutbox({
    transport: {
      ...transport,
      async edit(chatId, messageId, text, options) {
        await transport.edit(chatId, messageId, text, options);
        const task = pendingByText.get(`${messageId}\n${text}`);
        if (!task) return;
        // Everything this task showed up to this text is now visible.
        const index = task.waiting.findIndex((w) => w.text === text);
        for (const shown of task.waiting.splice(0, index + 1)) latencies.push(clock.now() - shown.at);
      },
    },
    clock,
    rate: RATE,
    logger: createLogger('silent', []),
  });
  const rand = random(seed);
  const chat = 'bench-chat';
  const all: Task[] = [];
  for (let i = 0; i < tasks; i++) {
    const view = createTaskView(snapshot(`n${i}`));
    const first = renderStatus(view, LIMITS);
    const { messageId } = await outbox.send(chat, first);
    all.push({ messageId, view, lastText: first.formatted, waiting: [] });
  }
  const update = (task: Task, content: Formatted): void => {
    if (content.formatted === task.lastText) return;
    task.lastText = content.formatted;
    task.waiting.push({ at: clock.now(), text: content.formatted });
    pendingByText.set(`${task.messageId}\n${content.formatted}`, task);
    outbox.edit(chat, task.messageId, content).catch(() => undefined);
  };
  const endTimes: number[] = [];
  const taskEnds = new Map<number, number>();
  const finalCount = { messages: 0 };
  await Promise.all(
    all.map(async (task, t) => {
      const duration = 4000 + rand() * 4000 + t * 150; // staggered, overlapping ends
      const start = clock.now();
      for (let i = 0; clock.now() - start < duration; i++) {
        await clock.sleep(50 + rand() * 250);
        task.view = reduceTaskView(task.view, progressEvent(rand, i));
        update(task, renderStatus(task.view, LIMITS));
      }
      task.view = reduceTaskView(task.view, {
        type: 'outcome',
        outcome: { kind: 'done', text: `Final answer of task ${t}.` },
        usage: { ...zero, inputTokens: 1000, outputTokens: 200 },
        costUsd: 0.001,
        durationMs: duration,
        model: null,
      });
      endTimes.push(clock.now());
      taskEnds.set(t, clock.now());
      update(task, renderStatus(task.view, LIMITS));
      for (const part of renderFinal(task.view, LIMITS)) {
        finalCount.messages++;
        outbox.send(chat, part, { replyToMessageId: task.messageId }).catch(() => undefined);
      }
    }),
  );
  const lastEnd = Math.max(...endTimes);
  await outbox.flush();
  const allArrived = Math.max(...arrivals.map((a) => a.at));
  // Calls still owed when the last task ended: each needs its own slot of the chat's rate.
  const pendingAtLastEnd = arrivals.filter((a) => a.at >= lastEnd).length;
  const perTask = all.map((task, t) => {
    const finalAt = Math.max(
      ...arrivals
        .filter((a) => a.messageId === task.messageId || a.text.includes(`Final answer of task ${t}.`))
        .map((a) => a.at),
    );
    return finalAt - (taskEnds.get(t) ?? 0);
  });
  await outbox.close();
  return {
    arrivals,
    latencies,
    afterLastEnd: allArrived - lastEnd,
    pendingAtLastEnd,
    perTask,
    stats: outbox.stats(),
  };
}

function renderThroughput(): BenchRow[] {
  const doc = Array.from({ length: 400 }, (_, i) =>
    i % 10 === 0
      ? `\`\`\`ts\nconst x${i} = a < b && c;\n\`\`\``
      : `Paragraph ${i} with **bold**, \`code\` & <html>.`,
  ).join('\n\n');
  const start = performance.now();
  const runs = 20;
  for (let i = 0; i < runs; i++) renderMarkdown(doc, LIMITS);
  const perDoc = (performance.now() - start) / runs;
  return [
    {
      part: 'render',
      name: `renderMarkdown of ${Math.round(doc.length / 1024)} KB to Telegram parts`,
      value: perDoc,
      unit: 'ms',
    },
  ];
}

export default async function bench(): Promise<BenchRow[]> {
  const single = await stream(1, 1);
  const ten = await stream(10, 2);
  const maxSingle = maxInWindow(single.arrivals, RATE.windowMs);
  const maxTen = maxInWindow(ten.arrivals, RATE.windowMs);
  const perMessageTarget = ten.pendingAtLastEnd * RATE.windowMs;
  return [
    {
      part: 'render',
      name: 'event → edit request, median (1 task, rate 1/1 s)',
      value: Math.round(median(single.latencies)),
      unit: 'ms',
      target: '< 1000 ms',
      ok: median(single.latencies) < 1000,
      note: `scaled time ×${SCALE}; ${single.latencies.length} status changes`,
    },
    {
      part: 'render',
      name: 'event → edit request, median (10 tasks in one chat)',
      value: Math.round(median(ten.latencies)),
      unit: 'ms',
      note: 'one chat shares 1 call/s between 11+ messages',
    },
    {
      part: 'render',
      name: 'max calls per chat in any 1 s window',
      value: Math.max(maxSingle, maxTen),
      unit: 'calls',
      target: `≤ ${RATE.count}`,
      ok: Math.max(maxSingle, maxTen) <= RATE.count,
    },
    {
      part: 'render',
      name: `10 tasks: all final states after the last task ends (${ten.pendingAtLastEnd} calls pending)`,
      value: Math.round(ten.afterLastEnd),
      unit: 'ms',
      target: `≤ ${perMessageTarget} ms (1 window per pending call)`,
      ok: ten.afterLastEnd <= perMessageTarget,
      note: `coalesced ${ten.stats.coalesced} edits, sent ${ten.stats.sent}, edited ${ten.stats.edited}`,
    },
    {
      part: 'render',
      name: '10 tasks: each task end → its final status and answer, median / max',
      value: Math.round(median(ten.perTask)),
      unit: 'ms',
      note: `max ${Math.round(Math.max(...ten.perTask))} ms; one chat at 1 call/s owes ≥ 2 calls per ending task`,
    },
    {
      part: 'render',
      name: '1 task: end → final status and answer',
      value: Math.round(Math.max(...single.perTask)),
      unit: 'ms',
      target: '≤ 2000 ms (2 calls at 1/s)',
      ok: Math.max(...single.perTask) <= 2 * RATE.windowMs,
    },
    ...renderThroughput(),
  ];
}
