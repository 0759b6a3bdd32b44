import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createDiscordPlatform,
  DISCORD_COMMANDS,
  type DiscordConfig,
} from '../../platforms/discord/index.js';
import { ChatApiError } from '../../platforms/outbox/index.js';
import type { Incoming, MessagingPlatform } from '../../platforms/platform.js';
import { createLogger } from '../../src/log.js';
import { type FakeDiscord, startFakeDiscord } from '../fakes/discord-api.js';

const CHANNEL = '100000000000000001';
const OTHER_CHANNEL = '100000000000000002';
const USER = '200000000000000001';
const STRANGER = '200000000000000009';

describe('discord adapter against the fake REST + gateway', () => {
  let fake: FakeDiscord;
  let platform: MessagingPlatform;
  let incoming: Incoming[];
  const logLines: string[] = [];
  const configFor = (overrides: Partial<DiscordConfig> = {}): DiscordConfig => ({
    token: 'fake-bot-token',
    allowedChannels: [CHANNEL],
    allowedUsers: [],
    apiBase: fake.apiBase,
    ...overrides,
  });

  beforeEach(async () => {
    fake = await startFakeDiscord({ channelIds: [CHANNEL, OTHER_CHANNEL] });
    incoming = [];
    logLines.length = 0;
    platform = createDiscordPlatform({
      config: configFor(),
      logger: createLogger('warn', [], { write: (line) => logLines.push(line) }),
    });
    await platform.start((message) => incoming.push(message));
  });

  afterEach(async () => {
    await platform.stop();
    await fake.close();
  });

  it('sends, replies, edits, deletes and shows typing', async () => {
    const user = fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: 'hi' });
    const { messageId } = await platform.send(CHANNEL, '**hello**', {
      formatted: true,
      replyToMessageId: user.messageId,
    });
    await platform.edit(CHANNEL, messageId, 'edited', { formatted: true });
    await platform.sendTyping(CHANNEL);
    const [message] = fake.botMessages(CHANNEL);
    expect(message?.history).toEqual(['**hello**', 'edited']);
    expect(message?.replyTo).toBe(user.messageId);
    await platform.delete(CHANNEL, messageId);
    expect(fake.botMessages(CHANNEL)[0]?.deleted).toBe(true);
    expect(fake.callsMatching(/^POST \/channels\/\d+\/typing$/)).toHaveLength(1);
  });

  it('sends a file with a message, as a reply', async () => {
    const user = fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: '/diff' });
    const data = new TextEncoder().encode('+added line\n'.repeat(500));
    await platform.send(CHANNEL, 'The whole diff', {
      formatted: true,
      replyToMessageId: user.messageId,
      file: { name: 'relay-0123abcd.diff', data },
    });
    const [sent] = fake.botMessages(CHANNEL);
    expect(sent?.history).toEqual(['The whole diff']);
    expect(sent?.replyTo).toBe(user.messageId);
    expect(sent?.files).toEqual([{ name: 'relay-0123abcd.diff', data }]);
  });

  it('still delivers what is owed after stop (the gateway is closed, REST keeps its token)', async () => {
    await platform.stop();
    const { messageId } = await platform.send(CHANNEL, 'final answer after stop', { formatted: true });
    await platform.edit(CHANNEL, messageId, 'final answer, edited', { formatted: true });
    expect(fake.botMessages(CHANNEL)[0]?.history).toEqual([
      'final answer after stop',
      'final answer, edited',
    ]);
  });

  it('maps REST failures to ChatApiError kinds and never waits out a 429 itself', async () => {
    const kindOf = async (work: Promise<unknown>): Promise<unknown> =>
      work.then(
        () => 'no error',
        (error: unknown) => (error instanceof ChatApiError ? [error.kind, error.retryAfterMs] : error),
      );
    expect(await kindOf(platform.send(CHANNEL, 'x'.repeat(2001), { formatted: true }))).toEqual([
      'bad_format',
      undefined,
    ]);
    expect(await kindOf(platform.edit(CHANNEL, '12345', 'x', { formatted: true }))).toEqual([
      'not_found',
      undefined,
    ]);
    fake.rateLimit(/^POST \/channels\/\d+\/messages$/, 2);
    // discord.js adds its 50 ms safety offset to Discord's retry_after.
    const [kind, retryAfterMs] = (await kindOf(platform.send(CHANNEL, 'x', { formatted: true }))) as [
      string,
      number,
    ];
    expect(kind).toBe('rate_limited');
    expect(retryAfterMs).toBeGreaterThanOrEqual(2000);
    fake.failNext(/^POST \/channels/, { status: 403, body: { message: 'Missing Permissions', code: 50013 } });
    expect(await kindOf(platform.send(CHANNEL, 'x', { formatted: true }))).toEqual(['forbidden', undefined]);
    expect(await kindOf(platform.send('100000000000000003', 'x', { formatted: true }))).toEqual([
      'not_found',
      undefined,
    ]);
    // After the 429 the next send goes through at once: discord.js did not keep a hidden wait of its own.
    await platform.send(CHANNEL, 'after', { formatted: true });
    expect(fake.botMessages(CHANNEL).map((m) => m.history[0])).toEqual(['after']);
  });

  it('delivers allowed messages, replies, voice messages and slash commands; ignores the rest', async () => {
    fake.postUserMessage({ channelId: OTHER_CHANNEL, userId: USER, content: 'wrong channel' });
    const first = fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: 'run the tests' });
    fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: '/stop', replyTo: first.messageId });
    const ogg = new Uint8Array([0x4f, 0x67, 0x67, 0x53, 9, 9]);
    fake.postUserMessage({ channelId: CHANNEL, userId: USER, voice: { data: ogg } });
    fake.postUserMessage({
      channelId: CHANNEL,
      userId: USER,
      attachment: { data: new Uint8Array(4), contentType: 'image/png', fileName: 'shot.png' },
    });
    fake.runSlashCommand({ channelId: OTHER_CHANNEL, userId: USER, name: 'stats' });
    fake.runSlashCommand({ channelId: CHANNEL, userId: USER, name: 'stats' });
    await vi.waitFor(() => expect(incoming).toHaveLength(5));
    expect(incoming.map((m) => m.kind)).toEqual(['text', 'text', 'audio', 'files', 'command']);
    expect(incoming[1]?.replyToMessageId).toBe(first.messageId);
    const voice = incoming[2];
    if (voice?.kind !== 'audio') throw new Error('expected audio');
    expect(voice.audio.mimeType).toBe('audio/ogg');
    expect(await voice.audio.download(new AbortController().signal)).toEqual(ogg);
    const command = incoming[4];
    if (command?.kind !== 'command') throw new Error('expected a command');
    expect(command.command).toBe('stats');
    await command.respond('**stats** here');
    const responses = fake.botMessages(CHANNEL).filter((m) => m.interactionId !== null);
    expect(responses.map((m) => m.history.at(-1))).toEqual(['**stats** here']);
    expect(logLines.filter((line) => line.includes('allow-list'))).toHaveLength(2);
    expect(fake.callsMatching(/^POST \/channels/)).toHaveLength(0);
  });

  it('hands over every non-audio attachment of a message with its text, downloadable from the CDN', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]);
    const log = new TextEncoder().encode('line 1\nline 2\n');
    fake.postUserMessage({
      channelId: CHANNEL,
      userId: USER,
      content: 'why does it crash?',
      attachment: { data: png, contentType: 'image/png', fileName: 'shot.png' },
      attachments: [
        { data: log, contentType: null, fileName: 'app log.txt' },
        { data: new Uint8Array([1]), contentType: 'audio/mpeg', fileName: 'note.mp3' },
      ],
    });
    await vi.waitFor(() => expect(incoming).toHaveLength(1));
    const message = incoming[0];
    if (message?.kind !== 'files') throw new Error(`expected files, got ${message?.kind}`);
    expect(message.text).toBe('why does it crash?');
    expect(message.files.map((f) => [f.fileName, f.mimeType, f.sizeBytes])).toEqual([
      ['shot.png', 'image/png', png.byteLength],
      ['app log.txt', 'application/octet-stream', log.byteLength],
    ]);
    const signal = new AbortController().signal;
    expect(await message.files[0]?.download(signal)).toEqual(png);
    expect(await message.files[1]?.download(signal)).toEqual(log);
    fake.failNext(/^GET \/attachments\//, { status: 404, body: { message: 'Unknown', code: 0 } });
    await expect(message.files[0]?.download(signal)).rejects.toThrow('HTTP 404');
  });

  it('ignores users outside ALLOWED_DISCORD_USERS, even in an allowed channel', async () => {
    await platform.stop();
    const strict = createDiscordPlatform({
      config: configFor({ allowedUsers: [USER] }),
      logger: createLogger('silent', []),
    });
    const seen: Incoming[] = [];
    await strict.start((message) => seen.push(message));
    fake.postUserMessage({ channelId: CHANNEL, userId: STRANGER, content: 'hello' });
    fake.postUserMessage({ channelId: CHANNEL, userId: USER, content: 'me' });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await strict.stop();
    expect(seen[0]?.userId).toBe(USER);
  });

  it('registers slash commands once and again only when they differ', async () => {
    expect(fake.commandWrites()).toBe(1);
    await platform.stop();
    const again = createDiscordPlatform({ config: configFor(), logger: createLogger('silent', []) });
    await again.start(() => {});
    await again.stop();
    expect(fake.commandWrites()).toBe(1);
    fake.setCommandsDirectly([{ name: 'stop', description: 'old text' }]);
    const third = createDiscordPlatform({ config: configFor(), logger: createLogger('silent', []) });
    await third.start(() => {});
    await third.stop();
    expect(fake.commandWrites()).toBe(2);
    expect(DISCORD_COMMANDS.map((c) => c.name)).toEqual(['stop', 'clear', 'stats', 'project']);
  });
});
