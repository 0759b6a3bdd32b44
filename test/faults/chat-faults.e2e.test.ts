import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OutboxStats } from '../../platforms/index.js';
import { textReply, type UpstreamReply } from '../fakes/openai-upstream.js';
import {
  answerText,
  type ChatFakeDriver,
  type ChatStorm,
  type RelayOnBoth,
  repliesTo,
  startRelayOnBoth,
} from '../platforms/chat-drivers.js';
import type { RelayRig } from '../platforms/relay-rig.js';

// Chat API faults while tasks run, on both platform fakes at once in one relay (one engine, one proxy, real
// `claude`): 429 storms, 5xx storms, a status message the user deleted, and the chat API going away and
// coming back. After each, what the user sees: the whole final answer, nothing cut, and the relay still up.

const WAIT = { timeout: 90_000, interval: 100 };
const MARKERS = ['STORM_429', 'STORM_5XX', 'DELETED_STATUS', 'OFFLINE', 'AFTERWARDS'] as const;
type Marker = (typeof MARKERS)[number];

/** A few thousand characters in numbered paragraphs: more than one Discord message, checkable piece by piece. */
function answerFor(marker: string, platform: string): string {
  return Array.from(
    { length: 12 },
    (_, i) =>
      `${marker} ${platform} paragraph ${i + 1}: ${'every word of it arrives intact '.repeat(6).trim()}.`,
  ).join('\n\n');
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('chat API faults on Telegram and Discord at once (e2e)', () => {
  let relay: RelayOnBoth;
  let rig: RelayRig;
  let rejections: unknown[] = [];
  const drivers = (): ChatFakeDriver[] => relay.drivers();
  /** The upstream holds each answer after its first chunks until the test opens the gate. */
  const gates = new Map<string, Deferred>();

  const gated =
    (marker: Marker) =>
    (request: { body: unknown }): UpstreamReply => {
      const platform = JSON.stringify(request.body).includes(`${marker} telegram`) ? 'telegram' : 'discord';
      const reply = textReply(answerFor(marker, platform), { chunkSize: 200 });
      const gate = gates.get(`${marker}:${platform}`)?.promise ?? Promise.resolve();
      return reply.kind === 'stream' ? { ...reply, pause: { after: 2, until: gate } } : reply;
    };

  beforeAll(async () => {
    relay = await startRelayOnBoth({
      replies: Object.fromEntries(MARKERS.map((marker) => [marker, gated(marker)])),
    });
    ({ rig, rejections } = relay);
  });
  afterAll(async () => {
    await relay?.stop();
    expect(rejections).toEqual([]);
  });

  const statsOf = (driver: ChatFakeDriver): OutboxStats => {
    const found = rig.chatStats().find((chat) => chat.chat.startsWith(`${driver.name}:`));
    if (!found) throw new Error(`no outbox for ${driver.name} yet`);
    return found;
  };
  const stateOf = (driver: ChatFakeDriver, userMessageId: string): string | undefined =>
    rig.engine.findNodeByMessage(driver.ref(userMessageId))?.state;

  /** Sends the task and waits for its status message, with the upstream answer held at the gate. */
  const startHeld = async (
    driver: ChatFakeDriver,
    marker: Marker,
  ): Promise<{ user: string; gate: Deferred }> => {
    const gate = deferred();
    gates.set(`${marker}:${driver.name}`, gate);
    const user = driver.send(`${marker} ${driver.name}: write the long answer`);
    await vi.waitFor(() => expect(repliesTo(driver, user)).toHaveLength(1), WAIT);
    return { user, gate };
  };

  /** Every paragraph of the upstream's answer is in the chat, in full, and no message is over the limit. */
  const expectWholeAnswer = async (driver: ChatFakeDriver, marker: Marker, user: string): Promise<void> => {
    const paragraphs = answerFor(marker, driver.name).split('\n\n');
    await vi.waitFor(() => {
      const shown = answerText(driver, user);
      const missing = paragraphs.filter((paragraph) => !shown.includes(paragraph));
      if (missing.length > 0) throw new Error(`${driver.name}: ${missing.length} paragraphs missing`);
    }, WAIT);
    for (const message of driver.messages()) {
      expect([...message.text].length).toBeLessThanOrEqual(driver.maxLength);
    }
  };

  /** Runs a task on both platforms; the fault starts once its status message is up and ends after the task did. */
  const throughFault = async (
    marker: Marker,
    fault: (driver: ChatFakeDriver) => ChatStorm,
  ): Promise<Array<{ driver: ChatFakeDriver; hits: number; before: OutboxStats; after: OutboxStats }>> =>
    Promise.all(
      drivers().map(async (driver) => {
        const { user, gate } = await startHeld(driver, marker);
        const before = statsOf(driver);
        const storm = fault(driver);
        gate.resolve();
        await vi.waitFor(() => expect(stateOf(driver, user)).toBe('done'), WAIT);
        // The final answer itself is refused a few times before the API recovers.
        await vi.waitFor(() => expect(storm.hits()).toBeGreaterThanOrEqual(3), WAIT);
        storm.end();
        await expectWholeAnswer(driver, marker, user);
        return { driver, hits: storm.hits(), before, after: statsOf(driver) };
      }),
    );

  it('rides out a 429 storm on every send and edit: the final answer arrives whole, each 429 waited out', async () => {
    for (const { driver, hits, before, after } of await throughFault('STORM_429', (d) =>
      d.rateLimitStorm(1),
    )) {
      // Telegram's every refusal reaches the outbox; discord.js also refuses early while it knows the limit.
      expect(after.rateLimited - before.rateLimited, driver.name).toBeGreaterThanOrEqual(hits);
      expect(after.failed - before.failed, driver.name).toBe(0);
    }
    expect(rejections).toEqual([]);
  });

  it('rides out a 500/502 storm: retried with backoff, then the final answer arrives whole', async () => {
    for (const { driver, before, after } of await throughFault('STORM_5XX', (d) => d.serverErrorStorm())) {
      expect(after.retried - before.retried, driver.name).toBeGreaterThanOrEqual(2);
      expect(after.failed - before.failed, driver.name).toBe(0);
    }
    expect(rejections).toEqual([]);
  });

  it('sends the final answer as a new message when the user deleted the status message', async () => {
    await Promise.all(
      drivers().map(async (driver) => {
        const { user, gate } = await startHeld(driver, 'DELETED_STATUS');
        const status = repliesTo(driver, user)[0]!;
        driver.deleteByUser(status.id);
        gate.resolve();
        await expectWholeAnswer(driver, 'DELETED_STATUS', user);
        const answer = repliesTo(driver, user).filter((m) => !m.deleted);
        expect(answer.length, driver.name).toBe(1);
        expect(answer[0]!.id).not.toBe(status.id);
        // The new message belongs to the task: a reply to it would fork this conversation.
        expect(rig.engine.findNodeByMessage(driver.ref(answer[0]!.id))?.prompt).toContain('DELETED_STATUS');
      }),
    );
    expect(rejections).toEqual([]);
  });

  it('recovers when the chat API goes away mid-task and comes back on the same port', async () => {
    await Promise.all(
      drivers().map(async (driver) => {
        const { user, gate } = await startHeld(driver, 'OFFLINE');
        const before = statsOf(driver);
        await driver.goOffline();
        gate.resolve();
        await vi.waitFor(() => expect(stateOf(driver, user)).toBe('done'), WAIT);
        await vi.waitFor(() => expect(statsOf(driver).retried).toBeGreaterThan(before.retried), WAIT);
        await driver.comeBack();
        await expectWholeAnswer(driver, 'OFFLINE', user);
        expect(statsOf(driver).failed - before.failed, driver.name).toBe(0);
        // Incoming messages flow again (Telegram polling, Discord gateway) and a new task runs normally.
        const next = driver.send(`AFTERWARDS ${driver.name}: and now?`);
        await expectWholeAnswer(driver, 'AFTERWARDS', next);
      }),
    );
    expect(rejections).toEqual([]);
  });
});
