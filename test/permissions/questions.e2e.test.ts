import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamReply,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';
import {
  answerText,
  bothPlatforms,
  DISCORD_CHANNEL,
  DISCORD_USER,
  startDiscordDriver,
  startTelegramDriver,
  TELEGRAM_USER,
} from '../platforms/chat-drivers.js';
import { type RelayRig, startRelayRig } from '../platforms/relay-rig.js';

// The model's questions and plans answered with buttons, end to end: the real CLI in ask mode through the
// embedded proxy to a scripted upstream, both chat fakes. What the user taps is what the model is told.

const WAIT = { timeout: 90_000, interval: 100 };

/** The model asks with AskUserQuestion, then reports the tool result it got. */
const asker =
  (marker: string, question: object) =>
  (request: UpstreamRequest): UpstreamReply => {
    const results = toolResults(request.body);
    if (results.length > 0) return textReply(`RESULT ${marker}: ${results.join(' | ')}`);
    return toolCallReply([{ name: 'AskUserQuestion', arguments: { questions: [question] } }]);
  };

const COLOR = {
  question: 'Which color should the button be?',
  header: 'Color',
  options: [
    { label: 'Blue', description: 'Calm default' },
    { label: 'Red', description: 'Loud' },
  ],
  multiSelect: false,
};
const SIDES = {
  question: 'Which sides get a border?',
  header: 'Border',
  options: [
    { label: 'Top', description: '' },
    { label: 'Left', description: '' },
    { label: 'Bottom', description: '' },
    { label: 'Right', description: '' },
  ],
  multiSelect: true,
};

describe('questions and plans as buttons (e2e, real CLI, Telegram and Discord)', () => {
  let telegram: Awaited<ReturnType<typeof startTelegramDriver>>;
  let discord: Awaited<ReturnType<typeof startDiscordDriver>>;
  let rig: RelayRig;

  /** Plan mode: the model asks to leave it with a plan, then (once out of it) writes the file the plan names. */
  const planner =
    (marker: string) =>
    (request: UpstreamRequest): UpstreamReply => {
      const results = toolResults(request.body);
      if (results.length === 0) {
        return toolCallReply(
          [{ name: 'ExitPlanMode', arguments: { plan: `# Plan\n1. Write ${marker}.txt` } }],
          { text: `I will write ${marker}.txt.` },
        );
      }
      if (results.length === 1) {
        return toolCallReply([
          {
            name: 'Write',
            arguments: { file_path: join(rig.workspace, `${marker}.txt`), content: 'planned\n' },
          },
        ]);
      }
      return textReply(`RESULT ${marker}: ${results.join(' | ')}`);
    };

  beforeAll(async () => {
    telegram = await startTelegramDriver();
    discord = await startDiscordDriver();
    rig = await startRelayRig({
      replies: {
        TG_COLOR: asker('TG_COLOR', COLOR),
        TG_OTHER: asker('TG_OTHER', COLOR),
        TG_REPLY: asker('TG_REPLY', COLOR),
        TG_OTHER_REPLY: asker('TG_OTHER_REPLY', COLOR),
        DC_SIDES: asker('DC_SIDES', SIDES),
        DC_PLAN: planner('DC_PLAN'),
        TG_PLAN: planner('TG_PLAN'),
      },
      messaging: bothPlatforms(telegram, discord),
      transcript: () => '',
      permissions: { mode: 'ask', timeoutMs: 120_000 },
    });
  });
  afterAll(async () => {
    await rig?.stop();
    await telegram?.close();
    await discord?.close();
  });

  /**
   * The messages with buttons under the task of a user message: they reply to its status message, or to the
   * user's own when the question came before the status message was linked.
   */
  const tgButtonsOf = (user: string) => {
    const all = telegram.fake.botMessages(TELEGRAM_USER);
    const status = all.find((m) => String(m.replyTo) === user);
    return all.filter(
      (m) =>
        m.buttons.length > 0 && (String(m.replyTo) === user || (status && m.replyTo === status.messageId)),
    );
  };
  const dcButtonsOf = (user: string) => {
    const all = discord.fake.botMessages(DISCORD_CHANNEL);
    const status = all.find((m) => m.replyTo === user);
    return all.filter(
      (m) => m.buttons.length > 0 && (m.replyTo === user || (status && m.replyTo === status.messageId)),
    );
  };
  const tgPress = (messageId: number, label: string) => {
    const message = telegram.fake.botMessages(TELEGRAM_USER).find((m) => m.messageId === messageId);
    const button = message?.buttons.find((b) => b.text === label);
    if (!button) throw new Error(`no ${label} button on ${messageId}`);
    return telegram.fake.pressButton({ userId: TELEGRAM_USER, messageId, callbackData: button.callbackData });
  };
  const dcPress = (messageId: string, label: string) => {
    const message = discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.messageId === messageId);
    const button = message?.buttons.find((b) => b.label === label);
    if (!button) throw new Error(`no ${label} button on ${messageId}: ${JSON.stringify(message?.buttons)}`);
    return discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: DISCORD_USER,
      messageId,
      customId: button.customId,
    });
  };

  it('Telegram: each option is a button; the tapped one reaches the model as the answer', async () => {
    const user = telegram.send('please TG_COLOR');
    await vi.waitFor(() => expect(tgButtonsOf(user)).toHaveLength(1), WAIT);
    const question = tgButtonsOf(user)[0]!;
    expect(question.history.at(-1)).toContain('Which color should the button be?');
    expect(question.buttons.map((b) => b.text)).toEqual(['Blue', 'Red', 'Other…']);
    tgPress(question.messageId, 'Blue');
    await vi.waitFor(
      () =>
        expect(answerText(telegram, user)).toContain(
          'RESULT TG_COLOR: Your questions have been answered: "Which color should the button be?"="Blue"',
        ),
      WAIT,
    );
    await vi.waitFor(() => {
      const after = telegram.fake.botMessages(TELEGRAM_USER).find((m) => m.messageId === question.messageId);
      expect(after?.buttons).toEqual([]);
      expect(after?.history.at(-1)).toContain('Answered: Blue');
    }, WAIT);
  });

  it('Telegram: "Other…" takes my next message as the answer, and starts no task with it', async () => {
    const user = telegram.send('please TG_OTHER');
    await vi.waitFor(() => expect(tgButtonsOf(user)).toHaveLength(1), WAIT);
    tgPress(tgButtonsOf(user)[0]!.messageId, 'Other…');
    await vi.waitFor(
      () =>
        expect(telegram.fake.callbackAnswers().at(-1)?.text).toBe('Send your answer as your next message.'),
      WAIT,
    );
    const typed = telegram.send('make it green like the logo');
    await vi.waitFor(
      () =>
        expect(answerText(telegram, user)).toContain(
          '"Which color should the button be?"="make it green like the logo"',
        ),
      WAIT,
    );
    expect(answerText(telegram, typed)).toBe('Answered.');
    expect(
      rig.requestsFor('make it green like the logo').filter((body) => toolResults(body).length === 0),
    ).toEqual([]);
  });

  it('Telegram: a reply to the question is its answer, with no tap first, and starts no task with it', async () => {
    const user = telegram.send('please TG_REPLY');
    await vi.waitFor(() => expect(tgButtonsOf(user)).toHaveLength(1), WAIT);
    const question = tgButtonsOf(user)[0]!;
    const typed = telegram.send('teal, to match the header', String(question.messageId));
    await vi.waitFor(
      () =>
        expect(answerText(telegram, user)).toContain(
          '"Which color should the button be?"="teal, to match the header"',
        ),
      WAIT,
    );
    expect(answerText(telegram, typed)).toBe('Answered.');
    expect(
      rig.requestsFor('teal, to match the header').filter((body) => toolResults(body).length === 0),
    ).toEqual([]);
  });

  it('Telegram: after "Other…", an answer sent as a reply to another message still answers (no fork)', async () => {
    const user = telegram.send('please TG_OTHER_REPLY');
    await vi.waitFor(() => expect(tgButtonsOf(user)).toHaveLength(1), WAIT);
    tgPress(tgButtonsOf(user)[0]!.messageId, 'Other…');
    await vi.waitFor(
      () =>
        expect(telegram.fake.callbackAnswers().at(-1)?.text).toBe('Send your answer as your next message.'),
      WAIT,
    );
    // Replying to the task's own prompt, as a group member must for the bot to see it.
    const typed = telegram.send('purple, as replied', user);
    await vi.waitFor(
      () =>
        expect(answerText(telegram, user)).toContain(
          '"Which color should the button be?"="purple, as replied"',
        ),
      WAIT,
    );
    expect(answerText(telegram, typed)).toBe('Answered.');
    expect(rig.requestsFor('purple, as replied').filter((body) => toolResults(body).length === 0)).toEqual(
      [],
    );
  });

  it('Discord: a multi-choice question takes several taps, then Done; the model gets them joined', async () => {
    const user = discord.send('please DC_SIDES');
    await vi.waitFor(() => expect(dcButtonsOf(user)).toHaveLength(1), WAIT);
    const question = dcButtonsOf(user)[0]!;
    // Four options, Other… and Done: more than one row of five.
    expect(question.buttons.map((b) => b.label)).toEqual([
      'Top',
      'Left',
      'Bottom',
      'Right',
      'Other…',
      'Done',
    ]);
    dcPress(question.messageId, 'Top');
    await vi.waitFor(() => expect(dcButtonsOf(user)[0]?.buttons[0]?.label).toBe('✓ Top'), WAIT);
    dcPress(question.messageId, 'Bottom');
    await vi.waitFor(() => expect(dcButtonsOf(user)[0]?.buttons[2]?.label).toBe('✓ Bottom'), WAIT);
    dcPress(question.messageId, 'Done');
    await vi.waitFor(
      () => expect(answerText(discord, user)).toContain('"Which sides get a border?"="Top, Bottom"'),
      WAIT,
    );
  });

  it('Discord: /mode plan; the plan shows with Approve / Keep planning; approved, Claude leaves plan mode', async () => {
    const mode = discord.send('/mode plan');
    await vi.waitFor(() => expect(answerText(discord, mode)).toContain('now run in `plan` mode'), WAIT);
    const user = discord.send('please DC_PLAN');
    await vi.waitFor(() => expect(dcButtonsOf(user)).toHaveLength(1), WAIT);
    const statusShows = (words: string): boolean =>
      discord.fake
        .botMessages(DISCORD_CHANNEL)
        .some(
          (m) => m.replyTo === user && m.history.some((text) => text.startsWith(`**🔄 Running · ${words}**`)),
        );
    await vi.waitFor(() => expect(statusShows('plan mode')).toBe(true), WAIT);
    const plan = dcButtonsOf(user)[0]!;
    // 2.1.330 passes on the plan only from its plan file; without one the plan is what the model said.
    expect(plan.history.at(-1)).toContain('waiting for your approval');
    await vi.waitFor(() => expect(answerText(discord, user)).toContain('I will write DC\\_PLAN.txt'), WAIT);
    expect(plan.buttons.map((b) => b.label)).toEqual(['Approve', 'Keep planning']);
    dcPress(plan.messageId, 'Approve');
    // The CLI says it left plan mode (system/status permissionMode default): the status line shows it.
    await vi.waitFor(() => expect(statusShows('default mode')).toBe(true), WAIT);
    // The plan stays in the chat, its answer in place of the question.
    await vi.waitFor(() => {
      const kept = discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.messageId === plan.messageId);
      expect(kept?.history.at(-1)).toContain('Claude’s plan');
      expect(kept?.history.at(-1)).toContain('Answered');
    }, WAIT);
    await vi.waitFor(
      () => expect(dcButtonsOf(user)[0]?.buttons.map((b) => b.label)).toEqual(['Allow', 'Always', 'Deny']),
      WAIT,
    );
    expect(
      rig.requestsFor('DC_PLAN').some((body) => toolResults(body).join().includes('User has approved')),
    ).toBe(true);
    dcPress(dcButtonsOf(user)[0]!.messageId, 'Allow');
    await vi.waitFor(() => expect(answerText(discord, user)).toContain('RESULT DC_PLAN'), WAIT);
    expect(existsSync(join(rig.workspace, 'DC_PLAN.txt'))).toBe(true);
  });
});
