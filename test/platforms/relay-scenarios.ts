import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { PlatformsConfig } from '../../platforms/index.js';
import { textReply, type UpstreamReply } from '../fakes/openai-upstream.js';
import { longAnswer, type RelayRig, startRelayRig } from './relay-rig.js';

// The user-visible behaviour of the relay, written once and run against each platform's fake through a
// small driver. Tests in a file share one relay (one engine, one proxy) and run in order.

export interface BotMessageView {
  id: string;
  replyTo: string | null;
  texts: string[];
  /** Per version: whether it was sent without formatting; null when the platform cannot tell. */
  plain: Array<boolean | null>;
  deleted: boolean;
}

export interface ChatDriver {
  messaging(rate: PlatformsConfig['rateLimit']): PlatformsConfig;
  send(text: string, replyTo?: string): string;
  sendAsStranger(text: string): void;
  sendVoice(options?: { replyTo?: string; declaredSize?: number }): string;
  sendFile(): string;
  messages(): BotMessageView[];
  strangerSawMessages(): number;
  /** The next `count` message edits are answered with 429 and a 1 s retry_after. */
  scriptRateLimit(count: number): void;
  /** Formatted text is refused until `off()`. */
  rejectFormatting(): { off(): void };
  typingCalls(): number;
  rateLimitedResponses(): number;
  maxLength: number;
}

const WAIT = { timeout: 90_000, interval: 100 };
const LONG = longAnswer();
const hang = (): UpstreamReply => {
  const reply = textReply('Working on it slowly', { chunkSize: 4 });
  return reply.kind === 'stream' ? { ...reply, hangAfter: 2 } : reply;
};

export function relayScenarios(setup: () => Promise<ChatDriver>): void {
  let chat: ChatDriver;
  let rig: RelayRig;
  let transcript = '';
  let transcriberStatus: { status: string; until: Promise<unknown> } | null = null;
  let patientCalls = 0;
  const replies = {
    TASK_HELLO: () => textReply('Hello from the relay test.'),
    TASK_FORK: () => textReply('Forked answer.'),
    TASK_FRESH: () => textReply('Fresh answer.'),
    TASK_SLOW_A: hang,
    TASK_SLOW_B: hang,
    TASK_LONG: () => textReply(LONG, { chunkSize: 400 }),
    TASK_FORMAT: () => textReply('Use **bold** and `code` with <angle> & ampersand.'),
    // The provider refuses the first call with a 429 the proxy waits out: the user is told, then answered.
    TASK_PATIENT: () =>
      patientCalls++ === 0
        ? { kind: 'error' as const, status: 429, headers: { 'retry-after': '3' } }
        : textReply('Patient answer.'),
    VOICE_TASK: () => textReply('Voice answer.'),
    VOICE_FORK: () => textReply('Voice fork answer.'),
  };

  const repliesTo = (messageId: string): BotMessageView[] =>
    chat.messages().filter((m) => m.replyTo === messageId);
  const lastText = (message: BotMessageView | undefined): string => message?.texts.at(-1) ?? '';
  /** Waits for the bot's answer to a user message whose latest text contains `needle`; returns it. */
  const answerTo = async (messageId: string, needle: string): Promise<BotMessageView> =>
    vi.waitFor(() => {
      const found = repliesTo(messageId).find((m) => lastText(m).includes(needle));
      if (!found)
        throw new Error(`no answer containing "${needle}" yet: ${JSON.stringify(repliesTo(messageId))}`);
      return found;
    }, WAIT);
  const everything = (): string => chat.messages().map(lastText).join('\n');

  beforeAll(async () => {
    chat = await setup();
    rig = await startRelayRig({
      replies,
      messaging: (rate) => chat.messaging(rate),
      transcript: () => transcript,
      transcriberStatus: () => transcriberStatus,
    });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  let helloStatus = '';
  let forkStatus = '';

  it('runs a task: one status message, replying to the user, ends with the final answer', async () => {
    const user = chat.send('TASK_HELLO say hello');
    // The finished answer ends with a one-line footer: state, duration, tokens (and a cost only when the CLI's
    // own backend reports one: through the proxy it would price another model's tokens, so none is shown).
    const status = await answerTo(user, 'out tokens');
    helloStatus = status.id;
    expect(repliesTo(user)).toHaveLength(1);
    const [answer, , footer] = lastText(status).split('\n');
    expect(answer).toContain('Hello from the relay test.');
    // …and the model that answered, as the provider named it (MODEL=fake-model routes every tier there).
    expect(footer).toMatch(/✅ .+ s · .+ in \/ .+ out tokens · fake-model\b/);
    expect(footer).not.toContain('$');
    expect(chat.typingCalls()).toBeGreaterThan(0);
  });

  it('forks a conversation on a reply (with history) and starts fresh without one', async () => {
    const fork = chat.send('TASK_FORK and then?', helloStatus);
    forkStatus = (await answerTo(fork, 'Forked answer.')).id;
    expect(rig.carries('TASK_FORK', 'TASK_HELLO')).toBe(true);
    const fresh = chat.send('TASK_FRESH a new topic');
    await answerTo(fresh, 'Fresh answer.');
    expect(rig.carries('TASK_FRESH', 'TASK_HELLO')).toBe(false);
  });

  it('/stop as a reply stops that task only; /stop alone stops the rest', async () => {
    const a = chat.send('TASK_SLOW_A take your time');
    const b = chat.send('TASK_SLOW_B take your time too');
    await vi.waitFor(() => {
      expect(rig.requestsFor('TASK_SLOW_A').length).toBeGreaterThan(0);
      expect(rig.requestsFor('TASK_SLOW_B').length).toBeGreaterThan(0);
      expect(repliesTo(a)).toHaveLength(1);
      expect(repliesTo(b)).toHaveLength(1);
    }, WAIT);
    const statusA = repliesTo(a)[0]!.id;
    const stopOne = chat.send('/stop', statusA);
    await answerTo(stopOne, 'Stopped 1 task');
    expect(rig.engine.stats().running).toBe(1);
    const stopAll = chat.send('/stop');
    await answerTo(stopAll, 'Stopped 1 task');
    expect(rig.engine.stats().running).toBe(0);
  });

  it('/clear of a branch removes it, deletes my messages of it, and says so', async () => {
    const clear = chat.send('/clear', forkStatus);
    await answerTo(clear, 'Cleared that branch: 1 task');
    await vi.waitFor(
      () => expect(chat.messages().find((m) => m.id === forkStatus)?.deleted).toBe(true),
      WAIT,
    );
    expect(chat.messages().find((m) => m.id === helloStatus)?.deleted).toBe(false);
  });

  it('/stats shows sessions and provider usage; strangers get nothing and start nothing', async () => {
    chat.sendAsStranger('TASK_STRANGER let me in');
    const stats = chat.send('/stats');
    const answer = await answerTo(stats, 'Relay stats');
    expect(lastText(answer)).toContain('Sessions:');
    expect(lastText(answer)).toContain('openai');
    // The provider's budget as it stands: the earlier tasks' requests inside the 60 s window, no stream open.
    expect(lastText(answer)).toMatch(/now: [1-9]\d*\/40 requests in the last 60 s, 0\/5 streams open/);
    expect(chat.strangerSawMessages()).toBe(0);
    expect(rig.requestsFor('TASK_STRANGER')).toEqual([]);
  });

  it('delivers a 9,000-character answer complete, through scripted 429s, within the length limit', async () => {
    chat.scriptRateLimit(3);
    const user = chat.send('TASK_LONG write a lot');
    await vi.waitFor(() => {
      const text = everything();
      for (const paragraph of LONG.split('\n\n')) {
        const marker = paragraph.slice(0, paragraph.indexOf(' says'));
        if (!text.includes(`${marker} says`)) throw new Error(`missing ${marker}`);
      }
    }, WAIT);
    expect(repliesTo(user).length).toBeGreaterThanOrEqual(1);
    expect(chat.rateLimitedResponses()).toBe(3);
    for (const message of chat.messages()) {
      for (const text of message.texts) expect([...text].length).toBeLessThanOrEqual(chat.maxLength);
    }
  });

  it('says so in the status while the provider rate-limits, then delivers the answer', async () => {
    const user = chat.send('TASK_PATIENT take your time');
    const status = await answerTo(user, 'Patient answer.');
    const notice = status.texts.find((text) => text.includes('rate limited'));
    expect(notice).toMatch(/⏳ the provider rate limited: retrying in [34] s \(retry 1\/3\)/);
    expect(lastText(status)).not.toContain('rate limited');
    expect(repliesTo(user)).toHaveLength(1);
  });

  it('falls back to plain text when the platform rejects the formatting', async () => {
    const rejection = chat.rejectFormatting();
    const user = chat.send('TASK_FORMAT show some formatting');
    const status = await answerTo(user, 'ampersand');
    rejection.off();
    expect(lastText(status)).toContain('bold');
    const plain = status.plain.at(-1);
    if (plain !== null) expect(plain).toBe(true);
  });

  it('turns a voice note into a task, and a voice reply into a fork', async () => {
    transcript = 'VOICE_TASK summarise the project';
    // What the transcriber says while the note waits for the speech model's download is shown in its status.
    let release = (): void => {};
    transcriberStatus = {
      status: 'downloading speech model: 48 %',
      until: new Promise<void>((done) => {
        release = done;
      }),
    };
    const voice = chat.sendVoice();
    await answerTo(voice, '🎙 downloading speech model: 48 %…');
    transcriberStatus = null;
    release();
    await answerTo(voice, 'summarise the project');
    await answerTo(voice, 'Voice answer.');
    expect(rig.carries('VOICE_TASK', 'TASK_HELLO')).toBe(false);
    transcript = 'VOICE_FORK go on from there';
    const reply = chat.sendVoice({ replyTo: helloStatus });
    await answerTo(reply, 'Voice fork answer.');
    expect(rig.carries('VOICE_FORK', 'TASK_HELLO')).toBe(true);
  });

  it('answers bad voice input clearly: over-size audio and non-audio files', async () => {
    const calls = rig.transcriber.calls;
    const big = chat.sendVoice({ declaredSize: 5 * 1024 * 1024 });
    await answerTo(big, 'the limit is');
    const file = chat.sendFile();
    await answerTo(file, 'voice notes');
    expect(rig.transcriber.calls).toBe(calls);
  });
}
