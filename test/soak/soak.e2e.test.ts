import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OutboxStats } from '../../platforms/index.js';
import { sumOutboxStats } from '../../platforms/index.js';
import { lastRole, lastUserText, textReply, toolCallReply } from '../fakes/openai-upstream.js';
import {
  answerText,
  type ChatFakeDriver,
  type RelayOnBoth,
  repliesTo,
  startRelayOnBoth,
} from '../platforms/chat-drivers.js';
import type { RelayRig } from '../platforms/relay-rig.js';

// The soak: one relay (one engine, one proxy, the real `claude`) serving Telegram and Discord at once. On each
// platform ten sessions in three conversation trees (three roots, then forks by replies, then forks of the
// forks), every one a tool call followed by a long answer the upstream streams slowly, while both chat fakes
// now and then refuse an edit with a 429. Then: every answer whole, every node final, nothing failed, and
// memory and open handles back near where they started once everything is closed. Figures are printed.

const WAIT = { timeout: 120_000, interval: 250 };
/** Default MESSAGING_RATE_LIMIT / MESSAGING_RATE_WINDOW: one call per second per chat. */
const RATE = { count: 1, windowMs: 1000 };

/** About 3,500 characters in numbered paragraphs: two Discord messages, one Telegram message. */
function answerOf(id: string): string {
  return Array.from(
    { length: 16 },
    (_, i) => `SOAK ${id} part ${i + 1}: ${'streamed slowly and delivered whole'.repeat(5)}.`,
  ).join('\n\n');
}

interface Figures {
  heapMb: number;
  rssMb: number;
  handles: number;
  resources: string[];
}

/** `gc` made callable for this test only (vitest does not pass --expose-gc); undefined if V8 refuses. */
function exposeGc(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof gc === 'function' ? () => gc() : undefined;
}

async function measure(gc: (() => void) | undefined): Promise<Figures> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const memory = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  return {
    heapMb: memory.heapUsed / 2 ** 20,
    rssMb: memory.rss / 2 ** 20,
    handles: resources.length,
    resources,
  };
}

describe('soak: ten sessions in three trees on each of Telegram and Discord, one relay (e2e)', () => {
  const gc = exposeGc();
  let baseline: Figures;
  let relay: RelayOnBoth;
  let rig: RelayRig;
  let rejections: unknown[] = [];
  const drivers = (): ChatFakeDriver[] => relay.drivers();
  /** Per platform: task name → the user's message that started it. */
  const tasks = new Map<string, Map<string, string>>();
  let injected429 = 0;
  let chaos: ReturnType<typeof setInterval> | undefined;
  let started = 0;

  beforeAll(async () => {
    // The code the relay loads only when used (the chat libraries, SQLite) is loaded before the baseline: the
    // figure is what the run leaves behind, not the code it needed.
    await Promise.all([
      import('../../platforms/telegram/adapter.js'),
      import('../../platforms/discord/adapter.js'),
      import('@keyv/sqlite'),
    ]);
    baseline = await measure(gc);
    relay = await startRelayOnBoth({
      replies: {
        // First a tool call the CLI really runs, then the long answer, streamed 40 characters at a time.
        SOAK: (request) => {
          const id = /SOAK (\w+ \w+)/.exec(lastUserText(request.body))?.[1] ?? 'unknown task';
          if (lastRole(request.body) !== 'tool') {
            return toolCallReply([
              { name: 'Bash', arguments: { command: `echo working on ${id}`, description: 'Say the task' } },
            ]);
          }
          return textReply(answerOf(id), { chunkSize: 40, delayMs: 250 });
        },
      },
      rate: RATE,
    });
    ({ rig, rejections } = relay);
    for (const driver of drivers()) tasks.set(driver.name, new Map());
    started = Date.now();
    // Now and then each chat API refuses the next edit with a 429 (retry after 1 s).
    chaos = setInterval(() => {
      for (const driver of drivers()) driver.scriptRateLimits(1);
      injected429 += drivers().length;
    }, 4000);
  });

  const closeAll = async (): Promise<void> => {
    clearInterval(chaos);
    await relay?.stop();
  };
  afterAll(closeAll);

  /** Starts a task on every platform; `parent` names the task whose first message it replies to. */
  const start = (name: string, parent?: string): void => {
    for (const driver of drivers()) {
      const mine = tasks.get(driver.name)!;
      const parentMessage = parent === undefined ? undefined : mine.get(parent);
      const replyTo =
        parentMessage === undefined
          ? undefined
          : repliesTo(driver, parentMessage).find((m) => !m.deleted)?.id;
      if (parent !== undefined && replyTo === undefined)
        throw new Error(`${parent} has no message to reply to`);
      mine.set(name, driver.send(`SOAK ${driver.name} ${name}: carry on`, replyTo));
    }
  };

  const complete = (driver: ChatFakeDriver, name: string): boolean => {
    const user = tasks.get(driver.name)!.get(name)!;
    const shown = answerText(driver, user);
    return (
      rig.engine.findNodeByMessage(driver.ref(user))?.state === 'done' &&
      answerOf(`${driver.name} ${name}`)
        .split('\n\n')
        .every((paragraph) => shown.includes(paragraph))
    );
  };

  const waitForWave = async (names: string[]): Promise<void> => {
    await vi.waitFor(() => {
      const missing = drivers().flatMap((driver) =>
        names.filter((name) => !complete(driver, name)).map((name) => `${driver.name} ${name}`),
      );
      if (missing.length > 0) throw new Error(`not complete yet: ${missing.join(', ')}`);
    }, WAIT);
  };

  it('delivers every answer whole through three waves of streamed work and occasional 429s', async () => {
    start('A');
    start('B');
    start('C');
    await waitForWave(['A', 'B', 'C']);
    start('A1', 'A');
    start('A2', 'A');
    start('B1', 'B');
    start('C1', 'C');
    await waitForWave(['A1', 'A2', 'B1', 'C1']);
    start('A1x', 'A1');
    start('B1x', 'B1');
    start('C1x', 'C1');
    await waitForWave(['A1x', 'B1x', 'C1x']);
    clearInterval(chaos);
    const streamedMs = Date.now() - started;

    const stats = rig.engine.stats();
    expect(stats.totalNodes).toBe(20);
    expect(stats.trees).toBe(6);
    expect(stats.byState.done).toBe(20);
    // Forks carry their parents' conversation; roots carry nobody else's.
    expect(rig.carries('SOAK telegram A1x', 'SOAK telegram A1:')).toBe(true);
    expect(rig.carries('SOAK discord C1', 'SOAK discord C:')).toBe(true);
    expect(rig.carries('SOAK discord B:', 'SOAK discord A:')).toBe(false);
    for (const driver of drivers()) {
      for (const message of driver.messages()) {
        expect([...message.text].length).toBeLessThanOrEqual(driver.maxLength);
      }
    }
    const chat: OutboxStats = sumOutboxStats(rig.chatStats());
    const served429 = injected429 - relay.telegram.fake.failuresLeft() - relay.discord.fake.failuresLeft();
    expect(chat.failed).toBe(0);
    expect(chat.rateLimited).toBeGreaterThanOrEqual(served429);
    expect(rejections).toEqual([]);

    await closeAll();
    const after = await measure(gc);
    // What the run leaves behind once everything is closed: caches and code compiled on the way, about 10 MB of
    // heap here; a leak of the 20 tasks' streams would be far more.
    const heapLimitMb = gc ? 16 : 120;
    const rows = {
      'streamed work (s)': (streamedMs / 1000).toFixed(1),
      'tasks / trees': `${stats.totalNodes} / ${stats.trees}`,
      'bot messages (telegram / discord)': `${relay.telegram.messages().length} / ${relay.discord.messages().length}`,
      'outbox sent / edited / coalesced': `${chat.sent} / ${chat.edited} / ${chat.coalesced}`,
      '429s served by the fakes / waited out': `${served429} / ${chat.rateLimited}`,
      'retried / failed / unhandled rejections': `${chat.retried} / ${chat.failed} / ${rejections.length}`,
      [`heap used MB (before / after${gc ? ', after gc' : ', no gc'})`]: `${baseline.heapMb.toFixed(1)} / ${after.heapMb.toFixed(1)} (+${(after.heapMb - baseline.heapMb).toFixed(1)}, asserted < +${heapLimitMb})`,
      'RSS MB (before / after)': `${baseline.rssMb.toFixed(1)} / ${after.rssMb.toFixed(1)}`,
      'active handles (before / after)': `${baseline.handles} / ${after.handles} (asserted ≤ +2)`,
    };
    console.log(
      `soak figures\n${Object.entries(rows)
        .map(([key, value]) => `  ${key.padEnd(48)} ${value}`)
        .join('\n')}\n  handles after: ${after.resources.join(', ')}`,
    );
    expect(after.handles).toBeLessThanOrEqual(baseline.handles + 2);
    expect(after.heapMb - baseline.heapMb).toBeLessThan(heapLimitMb);
  }, 240_000);
});
