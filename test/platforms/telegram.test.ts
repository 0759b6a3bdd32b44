import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatApiError } from '../../platforms/outbox/index.js';
import type { Incoming, MessagingPlatform } from '../../platforms/platform.js';
import { createTelegramPlatform, TELEGRAM_COMMANDS } from '../../platforms/telegram/index.js';
import { createLogger } from '../../src/log.js';
import { type FakeTelegram, startFakeTelegram } from '../fakes/telegram-api.js';

const ALLOWED = 4242;
const STRANGER = 666;

describe('telegram adapter against the fake Bot API', () => {
  let fake: FakeTelegram;
  let platform: MessagingPlatform;
  let incoming: Incoming[];
  const logLines: string[] = [];

  beforeEach(async () => {
    fake = await startFakeTelegram();
    incoming = [];
    logLines.length = 0;
    platform = createTelegramPlatform({
      config: { token: fake.token, allowedUserIds: [String(ALLOWED)], apiRoot: fake.apiRoot },
      logger: createLogger('warn', [], { write: (line) => logLines.push(line) }),
    });
    await platform.start((message) => incoming.push(message));
  });

  afterEach(async () => {
    await platform.stop();
    await fake.close();
  });

  it('sends, edits and deletes messages and shows typing', async () => {
    const { messageId } = await platform.send(String(ALLOWED), '<b>hello</b>', { formatted: true });
    await platform.edit(String(ALLOWED), messageId, 'plain <now>', { formatted: false });
    await platform.sendTyping(String(ALLOWED));
    const [message] = fake.botMessages(ALLOWED);
    expect(message?.history).toEqual(['<b>hello</b>', 'plain <now>']);
    expect(message?.parseModes).toEqual(['HTML', null]);
    await platform.delete(String(ALLOWED), messageId);
    expect(fake.botMessages(ALLOWED)[0]?.deleted).toBe(true);
    expect(fake.callsOf('sendChatAction')).toHaveLength(1);
  });

  it('replies to a message when asked', async () => {
    const user = fake.sendUserMessage({ userId: ALLOWED, text: 'question' });
    await platform.send(String(ALLOWED), 'answer', {
      formatted: false,
      replyToMessageId: String(user.messageId),
    });
    expect(fake.botMessages(ALLOWED)[0]?.replyTo).toBe(user.messageId);
  });

  it('sends a file as a document under its caption, as a reply', async () => {
    const user = fake.sendUserMessage({ userId: ALLOWED, text: '/diff' });
    const data = new TextEncoder().encode('+added line\n'.repeat(500));
    await platform.send(String(ALLOWED), 'The <b>whole</b> diff', {
      formatted: true,
      replyToMessageId: String(user.messageId),
      file: { name: 'relay-0123abcd.diff', data },
    });
    const [sent] = fake.botMessages(ALLOWED);
    expect(sent?.history).toEqual(['The <b>whole</b> diff']);
    expect(sent?.replyTo).toBe(user.messageId);
    expect(sent?.document?.name).toBe('relay-0123abcd.diff');
    expect(sent?.document?.data).toEqual(data);
  });

  it('maps Bot API failures to ChatApiError kinds', async () => {
    const chat = String(ALLOWED);
    const kindOf = async (work: Promise<unknown>): Promise<unknown> =>
      work.then(
        () => 'no error',
        (error: unknown) => (error instanceof ChatApiError ? [error.kind, error.retryAfterMs] : error),
      );
    expect(await kindOf(platform.send(chat, '<b>broken', { formatted: true }))).toEqual([
      'bad_format',
      undefined,
    ]);
    const { messageId } = await platform.send(chat, 'same', { formatted: false });
    expect(await kindOf(platform.edit(chat, messageId, 'same', { formatted: false }))).toEqual([
      'not_modified',
      undefined,
    ]);
    expect(await kindOf(platform.edit(chat, '9999', 'x', { formatted: false }))).toEqual([
      'not_found',
      undefined,
    ]);
    expect(await kindOf(platform.delete(chat, '9999'))).toEqual(['not_found', undefined]);
    fake.failNext('sendMessage', {
      errorCode: 429,
      description: 'Too Many Requests: retry after 3',
      retryAfter: 3,
    });
    expect(await kindOf(platform.send(chat, 'x', { formatted: false }))).toEqual(['rate_limited', 3000]);
    fake.failNext('editMessageText', { errorCode: 502, description: 'Bad Gateway' });
    expect(await kindOf(platform.edit(chat, messageId, 'y', { formatted: false }))).toEqual([
      'server',
      undefined,
    ]);
    fake.failNext('sendMessage', { errorCode: 403, description: 'Forbidden: bot was blocked by the user' });
    expect(await kindOf(platform.send(chat, 'x', { formatted: false }))).toEqual(['forbidden', undefined]);
    expect(await kindOf(platform.send(chat, 'x'.repeat(4097), { formatted: false }))).toEqual([
      'other',
      undefined,
    ]);
  });

  it('delivers allowed users’ text, replies and voice notes, and ignores strangers', async () => {
    fake.sendUserMessage({ userId: STRANGER, text: 'let me in' });
    const first = fake.sendUserMessage({ userId: ALLOWED, text: 'run the tests' });
    fake.sendUserMessage({ userId: ALLOWED, text: 'and fix them', replyTo: first.messageId });
    const ogg = new Uint8Array([0x4f, 0x67, 0x67, 0x53, 1, 2, 3]);
    fake.sendUserMessage({ userId: ALLOWED, voice: { data: ogg } });
    fake.sendUserMessage({
      userId: ALLOWED,
      document: { data: new Uint8Array(3), mimeType: 'application/pdf', fileName: 'a.pdf' },
    });
    await vi.waitFor(() => expect(incoming).toHaveLength(4));
    expect(incoming.map((message) => message.kind)).toEqual(['text', 'text', 'audio', 'files']);
    expect(incoming.every((message) => message.userId === String(ALLOWED))).toBe(true);
    expect(incoming[1]?.replyToMessageId).toBe(String(first.messageId));
    const voice = incoming[2];
    if (voice?.kind !== 'audio') throw new Error('expected audio');
    expect(voice.audio.sizeBytes).toBe(ogg.byteLength);
    expect(await voice.audio.download(new AbortController().signal)).toEqual(ogg);
    expect(logLines.some((line) => line.includes('not allowed'))).toBe(true);
    expect(fake.callsOf('sendMessage')).toHaveLength(0);
  });

  it('hands over the largest size of a photo with its caption, and documents (audio ones go to voice)', async () => {
    const small = new Uint8Array([1]);
    const large = new Uint8Array([0xff, 0xd8, 0xff, 7, 7, 7, 7]);
    const medium = new Uint8Array([2, 2, 2]);
    fake.sendUserMessage({
      userId: ALLOWED,
      caption: 'what is wrong here?',
      photo: [
        { data: small, width: 90, height: 60 },
        { data: large, width: 1280, height: 853 },
        { data: medium, width: 320, height: 213 },
      ],
    });
    const text = new TextEncoder().encode('hello from a file\n');
    fake.sendUserMessage({ userId: ALLOWED, document: { data: text, fileName: 'notes.txt' } });
    fake.sendUserMessage({
      userId: ALLOWED,
      document: { data: new Uint8Array([1]), mimeType: 'audio/mpeg', fileName: 'memo.mp3' },
    });
    await vi.waitFor(() => expect(incoming).toHaveLength(3));
    const [photo, document, audio] = incoming;
    if (photo?.kind !== 'files' || document?.kind !== 'files') throw new Error('expected files');
    expect(photo.text).toBe('what is wrong here?');
    expect(photo.files.map((f) => [f.fileName, f.mimeType, f.sizeBytes])).toEqual([
      ['photo.jpg', 'image/jpeg', large.byteLength],
    ]);
    const signal = new AbortController().signal;
    expect(await photo.files[0]?.download(signal)).toEqual(large);
    expect(document.text).toBe('');
    expect(document.files.map((f) => [f.fileName, f.mimeType])).toEqual([
      ['notes.txt', 'application/octet-stream'],
    ]);
    expect(await document.files[0]?.download(signal)).toEqual(text);
    expect(audio?.kind).toBe('audio');
    fake.failNext('getFile', { errorCode: 400, description: 'Bad Request: file is too big' });
    await expect(document.files[0]?.download(signal)).rejects.toThrow();
  });

  it('registers commands only when they differ from what Telegram has', async () => {
    expect(fake.callsOf('setMyCommands')).toHaveLength(1);
    const again = createTelegramPlatform({
      config: { token: fake.token, allowedUserIds: [], apiRoot: fake.apiRoot },
      logger: createLogger('silent', []),
    });
    await platform.stop();
    await again.start(() => {});
    await again.stop();
    expect(fake.callsOf('setMyCommands')).toHaveLength(1);
    fake.setCommandsDirectly([{ command: 'old', description: 'outdated' }]);
    await again.start(() => {});
    await again.stop();
    expect(fake.callsOf('setMyCommands')).toHaveLength(2);
    expect(fake.callsOf('getMyCommands').length).toBeGreaterThanOrEqual(3);
    expect(TELEGRAM_COMMANDS.map((c) => c.command)).toEqual([
      'stop',
      'clear',
      'stats',
      'diff',
      'merge',
      'discard',
      'project',
      'help',
    ]);
  });

  it('lets nobody in when the allow-list is empty', async () => {
    await platform.stop();
    const closed = createTelegramPlatform({
      config: { token: fake.token, allowedUserIds: [], apiRoot: fake.apiRoot },
      logger: createLogger('silent', []),
    });
    const seen: Incoming[] = [];
    await closed.start((message) => seen.push(message));
    fake.sendUserMessage({ userId: ALLOWED, text: 'hello?' });
    await vi.waitFor(() =>
      expect(fake.callsOf('getUpdates').some((call) => call.payload.offset === 2)).toBe(true),
    );
    await closed.stop();
    expect(seen).toEqual([]);
  });
});
