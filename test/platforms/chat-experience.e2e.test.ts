import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  lastRole,
  lastUserText,
  textReply,
  toolCallReply,
  type UpstreamReply,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';
import { parseTelegramHtml } from '../fakes/telegram-html.js';
import {
  answerText,
  bothPlatforms,
  DISCORD_CHANNEL,
  DISCORD_USER,
  startDiscordDriver,
  startTelegramDriver,
  TELEGRAM_USER,
} from './chat-drivers.js';
import { type RelayRig, startRelayRig } from './relay-rig.js';

// What a user sees of a task's way to its answer, end to end on both chat fakes with the real CLI: the steps
// kept after the task ends, which conversation a reply continues, and replies queued under a task that fails.

const WAIT = { timeout: 90_000, interval: 100 };
const THREAD = '300000000000000002';
/** A thread of a channel that is not in ALLOWED_DISCORD_CHANNELS. */
const FOREIGN_THREAD = '300000000000000009';
const DM = '500000000000000001';
const STRANGER = '400000000000000999';
const STRANGER_DM = '500000000000000002';

/** The model thinks, runs one shell command, then answers in words that do not repeat the command. */
const withTool =
  (marker: string) =>
  (request: UpstreamRequest): UpstreamReply => {
    if (lastRole(request.body) !== 'tool') {
      return toolCallReply([
        { name: 'Bash', arguments: { command: `echo OUTPUT_OF_${marker}`, description: 'Say it' } },
      ]);
    }
    return textReply(`Answer for ${marker}: the command worked.`, {
      reasoning: `The command printed what I expected for ${marker}`,
    });
  };

/** Twelve shell commands in one turn, each long enough that their steps together exceed a Discord message. */
const manyTools =
  (marker: string) =>
  (request: UpstreamRequest): UpstreamReply => {
    if (lastRole(request.body) !== 'tool') {
      return toolCallReply(
        Array.from({ length: 12 }, (_, index) => ({
          name: 'Bash',
          arguments: { command: `echo ${marker}_STEP_${index}_${'x'.repeat(120)}`, description: 'Say it' },
        })),
      );
    }
    return textReply(`Answer for ${marker}: all twelve worked.`);
  };

const hang = (): UpstreamReply => {
  const reply = textReply('Working on it slowly', { chunkSize: 4 });
  return reply.kind === 'stream' ? { ...reply, hangAfter: 2 } : reply;
};

describe('chat experience (e2e, Telegram and Discord at once)', () => {
  let telegram: Awaited<ReturnType<typeof startTelegramDriver>>;
  let discord: Awaited<ReturnType<typeof startDiscordDriver>>;
  let rig: RelayRig;

  beforeAll(async () => {
    telegram = await startTelegramDriver();
    discord = await startDiscordDriver({
      threads: [
        { id: THREAD, parentId: DISCORD_CHANNEL },
        { id: FOREIGN_THREAD, parentId: '300000000000000008' },
      ],
      dmChannels: [
        { id: DM, userId: DISCORD_USER },
        { id: STRANGER_DM, userId: STRANGER },
      ],
    });
    rig = await startRelayRig({
      replies: {
        TG_STEPS: withTool('TG_STEPS'),
        DC_STEPS: withTool('DC_STEPS'),
        DC_LONG: manyTools('DC_LONG'),
        TG_SLOW_PARENT: hang,
        DC_SLOW_PARENT: hang,
      },
      messaging: bothPlatforms(telegram, discord),
      transcript: () => '',
    });
  });
  afterAll(async () => {
    await rig?.stop();
    await telegram?.close();
    await discord?.close();
  });

  const tgReplies = (messageId: string) =>
    telegram.fake.botMessages(TELEGRAM_USER).filter((m) => String(m.replyTo) === messageId);
  const dcReplies = (messageId: string) =>
    discord.fake.botMessages(DISCORD_CHANNEL).filter((m) => m.replyTo === messageId);

  let tgStepsStatus = '';

  it('Telegram: the finished answer keeps the tool log and the thinking, folded in an expandable quote', async () => {
    const user = telegram.send('TG_STEPS run the command');
    await vi.waitFor(() => expect(tgReplies(user)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    const [status] = tgReplies(user);
    if (!status) throw new Error('no status message');
    tgStepsStatus = String(status.messageId);
    // Live, the status showed the call…
    expect(status.history.some((text) => text.includes('echo OUTPUT_OF_TG_STEPS'))).toBe(true);
    // …and finished, the answer still shows it, with its result and the thinking, in a collapsed quote.
    const final = status.history.at(-1) ?? '';
    expect(final.startsWith('<blockquote expandable>')).toBe(true);
    const quote = final.slice(0, final.indexOf('</blockquote>'));
    expect(quote).toContain('Bash</b> echo OUTPUT_OF_TG_STEPS → OUTPUT_OF_TG_STEPS');
    expect(quote).toContain('The command printed what I expected for TG_STEPS');
    expect(final).toContain('Answer for TG_STEPS: the command worked.');
    expect(final).toMatch(/✅ .+ out tokens · fake-model/);
    expect(parseTelegramHtml(final).ok).toBe(true);
  });

  it('Telegram: a reply says on its first status line which conversation it continues', async () => {
    const fork = telegram.send('and what else?', tgStepsStatus);
    await vi.waitFor(() => expect(tgReplies(fork)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    const first = tgReplies(fork)[0]?.history[0] ?? '';
    expect(first.split('\n')[0]).toMatch(/^<b>.+<\/b> · ↪ continues TG_STEPS run the command/);
    // A new conversation says nothing of the kind.
    const fresh = telegram.send('a new topic');
    await vi.waitFor(() => expect(tgReplies(fresh)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    expect(tgReplies(fresh)[0]?.history.some((text) => text.includes('continues'))).toBe(false);
  });

  it('Discord: the answer carries a Show steps button; pressed, the tool log follows and the button goes', async () => {
    const user = discord.send('DC_STEPS run the command');
    await vi.waitFor(() => expect(dcReplies(user).find((m) => m.buttons.length > 0)).toBeDefined(), WAIT);
    const answer = dcReplies(user).find((m) => m.buttons.length > 0);
    if (!answer) throw new Error(`no message with a button: ${JSON.stringify(dcReplies(user))}`);
    expect(answer.buttons.map((button) => button.label)).toEqual(['Show steps']);
    expect(answer.history.at(-1)).toContain('Answer for DC_STEPS: the command worked.');
    expect(answer.history.at(-1)).not.toContain('OUTPUT\\_OF\\_DC\\_STEPS →');
    discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: DISCORD_USER,
      messageId: answer.messageId,
      customId: answer.buttons[0]!.customId,
    });
    await vi.waitFor(() => expect(dcReplies(answer.messageId).length).toBeGreaterThan(0), WAIT);
    const steps = dcReplies(answer.messageId)
      .map((m) => m.history.at(-1) ?? '')
      .join('\n');
    expect(steps).toContain('**Bash** echo OUTPUT\\_OF\\_DC\\_STEPS → OUTPUT\\_OF\\_DC\\_STEPS');
    expect(steps).toContain('The command printed what I expected for DC\\_STEPS');
    for (const text of steps.split('\n')) expect(text.length).toBeLessThanOrEqual(2000);
    await vi.waitFor(
      () =>
        expect(
          discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.messageId === answer.messageId)?.buttons,
        ).toEqual([]),
      WAIT,
    );
  });

  it('Discord: steps longer than one message come as one steps.md file when Show steps is pressed', async () => {
    const user = discord.send('DC_LONG run them all');
    await vi.waitFor(() => expect(dcReplies(user).find((m) => m.buttons.length > 0)).toBeDefined(), WAIT);
    const answer = dcReplies(user).find((m) => m.buttons.length > 0)!;
    expect(answer.history.at(-1)).toContain('Answer for DC_LONG: all twelve worked.');
    discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: DISCORD_USER,
      messageId: answer.messageId,
      customId: answer.buttons[0]!.customId,
    });
    // The button goes once everything the press brings has been sent.
    await vi.waitFor(
      () =>
        expect(
          discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.messageId === answer.messageId)?.buttons,
        ).toEqual([]),
      WAIT,
    );
    // One message, not a screenful: its caption says what is in the file, the file holds every step.
    const replies = dcReplies(answer.messageId);
    expect(replies).toHaveLength(1);
    const [message] = replies;
    expect(message!.history.at(-1)).toContain('How it went: 12 tool calls');
    expect(message!.files?.map((file) => file.name)).toEqual(['steps.md']);
    const text = new TextDecoder().decode(message!.files![0]!.data);
    expect(text.length).toBeGreaterThan(2000);
    for (let index = 0; index < 12; index++) {
      expect(text).toContain(`Bash echo DC_LONG_STEP_${index}_x`);
      expect(text).toContain(`→ DC_LONG_STEP_${index}_x`);
    }
    // A reply to the file continues the conversation, as a reply to any message of the task does.
    expect(rig.engine.findNodeByMessage(discord.ref(message!.messageId))?.prompt).toBe(
      'DC_LONG run them all',
    );
  });

  it('Telegram forum topics: answers and commands land in the topic they came from; each topic is its own chat', async () => {
    const GROUP = -100_777;
    const inTopic = (threadId: number, text: string, replyTo?: number) =>
      telegram.fake.sendUserMessage({
        userId: TELEGRAM_USER,
        chatId: GROUP,
        threadId,
        text,
        ...(replyTo === undefined ? {} : { replyTo }),
      }).messageId;
    const repliesTo = (messageId: number) =>
      telegram.fake.botMessages(GROUP).filter((m) => m.replyTo === messageId);
    const task = inTopic(11, 'TOPIC_TASK say hello');
    await vi.waitFor(() => expect(repliesTo(task)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    expect(repliesTo(task)[0]?.threadId).toBe(11);
    const stats = inTopic(12, '/stats');
    await vi.waitFor(() => expect(repliesTo(stats)[0]?.history.at(-1)).toContain('Relay stats'), WAIT);
    expect(repliesTo(stats)[0]?.threadId).toBe(12);
    // A reply inside the topic continues that conversation, and stays in the topic.
    const fork = inTopic(11, 'TOPIC_FORK and then?', repliesTo(task)[0]!.messageId);
    await vi.waitFor(() => expect(repliesTo(fork)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    expect(repliesTo(fork)[0]?.threadId).toBe(11);
    expect(rig.carries('TOPIC_FORK', 'TOPIC_TASK')).toBe(true);
    // Written in the topic but replying to nothing: a new conversation (not a reply to the topic's root).
    const fresh = inTopic(11, 'TOPIC_FRESH another thing');
    await vi.waitFor(() => expect(repliesTo(fresh)[0]?.history.at(-1)).toContain('out tokens'), WAIT);
    expect(rig.carries('TOPIC_FRESH', 'TOPIC_TASK')).toBe(false);
    // Each topic has its own queue and rate window.
    const keys = rig.chatStats().map((stats) => stats.chat);
    expect(keys).toEqual(expect.arrayContaining([`telegram:${GROUP}/11`, `telegram:${GROUP}/12`]));
    expect(telegram.fake.botMessages(GROUP).every((m) => m.threadId === 11 || m.threadId === 12)).toBe(true);
  });

  it('Discord threads and DMs: a task asked in a thread or a DM is answered there; strangers and other channels get nothing', async () => {
    const post = (channelId: string, userId: string, content: string, replyTo?: string) =>
      discord.fake.postUserMessage({ channelId, userId, content, ...(replyTo ? { replyTo } : {}) }).messageId;
    const answerIn = (channelId: string, messageId: string) =>
      discord.fake.botMessages(channelId).find((m) => m.replyTo === messageId);
    const inThread = post(THREAD, DISCORD_USER, 'THREAD_TASK say hello');
    await vi.waitFor(() => expect(answerIn(THREAD, inThread)?.history.at(-1)).toContain('out tokens'), WAIT);
    const fork = post(THREAD, DISCORD_USER, 'THREAD_FORK and then?', answerIn(THREAD, inThread)!.messageId);
    await vi.waitFor(() => expect(answerIn(THREAD, fork)?.history.at(-1)).toContain('out tokens'), WAIT);
    expect(rig.carries('THREAD_FORK', 'THREAD_TASK')).toBe(true);
    const direct = post(DM, DISCORD_USER, 'DM_TASK say hello');
    await vi.waitFor(() => expect(answerIn(DM, direct)?.history.at(-1)).toContain('out tokens'), WAIT);
    post(STRANGER_DM, STRANGER, 'DM_STRANGER let me in');
    post(FOREIGN_THREAD, DISCORD_USER, 'FOREIGN_THREAD_TASK hello');
    // Asked after them in an allowed place and answered: by then the others would have been seen.
    const later = post(DISCORD_CHANNEL, DISCORD_USER, 'LATER_TASK hello');
    await vi.waitFor(
      () => expect(answerIn(DISCORD_CHANNEL, later)?.history.at(-1)).toContain('out tokens'),
      WAIT,
    );
    expect(discord.fake.botMessages(STRANGER_DM)).toEqual([]);
    expect(discord.fake.botMessages(FOREIGN_THREAD)).toEqual([]);
    expect(rig.requestsFor('DM_STRANGER')).toEqual([]);
    expect(rig.requestsFor('FOREIGN_THREAD_TASK')).toEqual([]);
  });

  for (const platform of ['telegram', 'discord'] as const) {
    it(`${platform}: a reply queued under a task that is then stopped is told, not run; a reply to that runs it`, async () => {
      const driver = platform === 'telegram' ? telegram : discord;
      const marker = platform === 'telegram' ? 'TG' : 'DC';
      const parent = driver.send(`${marker}_SLOW_PARENT take your time`);
      await vi.waitFor(() => {
        expect(rig.requestsFor(`${marker}_SLOW_PARENT`).length).toBeGreaterThan(0);
        expect(driver.messages().filter((m) => m.replyTo === parent)).toHaveLength(1);
      }, WAIT);
      const parentStatus = driver.messages().find((m) => m.replyTo === parent)!.id;
      const child = driver.send(`${marker}_QUEUED_CHILD then do this`, parentStatus);
      await vi.waitFor(
        () => expect(driver.messages().find((m) => m.replyTo === child)?.text).toContain('Queued'),
        WAIT,
      );
      driver.send('/stop', parentStatus);
      await vi.waitFor(
        () =>
          expect(driver.messages().find((m) => m.replyTo === child)?.text).toContain(
            'Not run: the task it replies to was stopped. Reply to this message to run it anyway.',
          ),
        WAIT,
      );
      // No CLI ran it: the provider never heard of it, and the engine never started it.
      expect(rig.requestsFor(`${marker}_QUEUED_CHILD`)).toEqual([]);
      const skipped = rig.engine.findNodeByMessage(driver.ref(child));
      expect(skipped?.startedAt).toBeNull();
      expect(skipped?.sessionId).toBeNull();

      const notice = driver.messages().find((m) => m.replyTo === child)!.id;
      const again = driver.send('go ahead', notice);
      await vi.waitFor(() => expect(answerText(driver, again)).toContain('out tokens'), WAIT);
      const asked = rig.requestsFor('go ahead').map((body) => lastUserText(body));
      expect(asked.some((text) => text.includes(`${marker}_QUEUED_CHILD then do this`))).toBe(true);
      // It ran where it would have: forked from the stopped task's conversation.
      expect(rig.carries('go ahead', `${marker}_SLOW_PARENT`)).toBe(true);
    });
  }
});
