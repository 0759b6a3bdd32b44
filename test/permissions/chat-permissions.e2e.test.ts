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

// CLAUDE_PERMISSIONS=ask end to end, one relay over both chat fakes: the real CLI through the embedded proxy to
// a scripted upstream whose model wants to write a file; the user answers with the prompt's buttons (or a typed
// /deny), a stranger's press changes nothing.

const WAIT = { timeout: 90_000, interval: 100 };
const STRANGER_TG = 9999;
const STRANGER_DC = '400000000000000999';

describe('permission prompts in chat (e2e, Telegram and Discord at once)', () => {
  let telegram: Awaited<ReturnType<typeof startTelegramDriver>>;
  let discord: Awaited<ReturnType<typeof startDiscordDriver>>;
  let rig: RelayRig;

  /** The model writes `<marker>.txt`, then reports the tool result it got. */
  const writer =
    (marker: string) =>
    (request: UpstreamRequest): UpstreamReply => {
      const results = toolResults(request.body);
      if (results.length > 0) return textReply(`RESULT ${marker}: ${results.join(' | ')}`);
      return toolCallReply([
        { name: 'Write', arguments: { file_path: join(rig.workspace, `${marker}.txt`), content: 'hi\n' } },
      ]);
    };
  const MARKERS = ['TG_ALLOW', 'TG_DENY', 'DC_ALLOW', 'DC_DENY'];

  beforeAll(async () => {
    telegram = await startTelegramDriver();
    discord = await startDiscordDriver();
    rig = await startRelayRig({
      replies: Object.fromEntries(MARKERS.map((marker) => [marker, writer(marker)])),
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

  const tgPrompt = () => telegram.fake.botMessages(TELEGRAM_USER).find((m) => m.buttons.length > 0);
  // The 🔐 prompt, not a finished answer's "Show steps" button.
  const dcPrompt = () =>
    discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.buttons.some((b) => b.label === 'Allow'));
  const fileOf = (marker: string) => join(rig.workspace, `${marker}.txt`);

  it('Telegram: the prompt shows the call with Allow / Always / Deny; a stranger is refused; Allow writes the file', async () => {
    const user = telegram.send('please TG_ALLOW');
    await vi.waitFor(() => expect(tgPrompt()).toBeDefined(), WAIT);
    const prompt = tgPrompt();
    if (!prompt) throw new Error('no prompt');
    expect(prompt.history.at(-1)).toContain('🔐 Write wants to write');
    expect(prompt.history.at(-1)).toContain('TG_ALLOW.txt');
    expect(prompt.buttons.map((button) => button.text)).toEqual(['Allow', 'Always', 'Deny']);
    const [allow] = prompt.buttons;
    if (!allow) throw new Error('no Allow button');

    const stranger = telegram.fake.pressButton({
      userId: STRANGER_TG,
      chatId: TELEGRAM_USER,
      messageId: prompt.messageId,
      callbackData: allow.callbackData,
    });
    await vi.waitFor(
      () =>
        expect(telegram.fake.callbackAnswers().find((a) => a.queryId === stranger.queryId)).toMatchObject({
          showAlert: true,
        }),
      WAIT,
    );
    expect(tgPrompt()?.messageId).toBe(prompt.messageId);
    expect(existsSync(fileOf('TG_ALLOW'))).toBe(false);

    const press = telegram.fake.pressButton({
      userId: TELEGRAM_USER,
      messageId: prompt.messageId,
      callbackData: allow.callbackData,
    });
    await vi.waitFor(
      () => expect(answerText(telegram, user)).toContain('RESULT TG_ALLOW: File created'),
      WAIT,
    );
    expect(existsSync(fileOf('TG_ALLOW'))).toBe(true);
    expect(telegram.fake.callbackAnswers().find((a) => a.queryId === press.queryId)).toMatchObject({
      text: 'Allowed.',
      showAlert: false,
    });
    await vi.waitFor(() => expect(tgPrompt()).toBeUndefined(), WAIT);
    const after = telegram.fake.botMessages(TELEGRAM_USER).find((m) => m.messageId === prompt.messageId);
    expect(after?.history.at(-1)).toMatch(/^✅ Allowed: Write/);
  });

  it('Telegram: /deny typed as a reply to the prompt: nothing written, the model is told', async () => {
    const user = telegram.send('please TG_DENY');
    await vi.waitFor(() => expect(tgPrompt()).toBeDefined(), WAIT);
    const prompt = tgPrompt();
    if (!prompt) throw new Error('no prompt');
    const command = telegram.send('/deny', String(prompt.messageId));
    await vi.waitFor(
      () =>
        expect(answerText(telegram, user)).toMatch(
          /RESULT TG_DENY: (Error: )?The user denied this tool call/,
        ),
      WAIT,
    );
    expect(existsSync(fileOf('TG_DENY'))).toBe(false);
    await vi.waitFor(() => expect(answerText(telegram, command)).toBe('Denied.'), WAIT);
    await vi.waitFor(() => expect(tgPrompt()).toBeUndefined(), WAIT);
    const after = telegram.fake.botMessages(TELEGRAM_USER).find((m) => m.messageId === prompt.messageId);
    expect(after?.history.at(-1)).toMatch(/^🚫 Denied: Write/);
  });

  it('Discord: Allow by button (deferred update), the buttons go and the file is written', async () => {
    const user = discord.send('please DC_ALLOW');
    await vi.waitFor(() => expect(dcPrompt()).toBeDefined(), WAIT);
    const prompt = dcPrompt();
    if (!prompt) throw new Error('no prompt');
    expect(prompt.buttons.map((button) => [button.label, button.style])).toEqual([
      ['Allow', 3],
      ['Always', 1],
      ['Deny', 4],
    ]);
    const allow = prompt.buttons[0];
    if (!allow) throw new Error('no Allow button');
    const { interactionId } = discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: DISCORD_USER,
      messageId: prompt.messageId,
      customId: allow.customId,
    });
    await vi.waitFor(
      () => expect(answerText(discord, user)).toContain('RESULT DC_ALLOW: File created'),
      WAIT,
    );
    expect(existsSync(fileOf('DC_ALLOW'))).toBe(true);
    expect(discord.fake.interactionCallbacks().find((c) => c.interactionId === interactionId)?.type).toBe(6);
    await vi.waitFor(() => expect(dcPrompt()).toBeUndefined(), WAIT);
    const after = discord.fake.botMessages(DISCORD_CHANNEL).find((m) => m.messageId === prompt.messageId);
    expect(after?.history.at(-1)).toMatch(/^✅ Allowed: Write/);
  });

  it('Discord: a stranger’s press gets an ephemeral refusal and changes nothing; Deny keeps the file unwritten', async () => {
    const user = discord.send('please DC_DENY');
    await vi.waitFor(() => expect(dcPrompt()).toBeDefined(), WAIT);
    const prompt = dcPrompt();
    const deny = prompt?.buttons.find((button) => button.label === 'Deny');
    const allow = prompt?.buttons.find((button) => button.label === 'Allow');
    if (!prompt || !deny || !allow) throw new Error('no prompt');

    const stranger = discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: STRANGER_DC,
      messageId: prompt.messageId,
      customId: allow.customId,
    });
    await vi.waitFor(
      () =>
        expect(
          discord.fake.interactionCallbacks().find((c) => c.interactionId === stranger.interactionId),
        ).toMatchObject({ type: 4, ephemeral: true }),
      WAIT,
    );
    expect(dcPrompt()?.messageId).toBe(prompt.messageId);
    expect(existsSync(fileOf('DC_DENY'))).toBe(false);

    discord.fake.pressButton({
      channelId: DISCORD_CHANNEL,
      userId: DISCORD_USER,
      messageId: prompt.messageId,
      customId: deny.customId,
    });
    await vi.waitFor(
      () =>
        expect(answerText(discord, user)).toMatch(/RESULT DC_DENY: (Error: )?The user denied this tool call/),
      WAIT,
    );
    expect(existsSync(fileOf('DC_DENY'))).toBe(false);
    await vi.waitFor(() => expect(dcPrompt()).toBeUndefined(), WAIT);
  });
});
