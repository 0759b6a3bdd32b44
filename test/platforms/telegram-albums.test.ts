import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Incoming } from '../../platforms/platform.js';
import { ALBUM_QUIET_MS, createAlbumGatherer } from '../../platforms/telegram/albums.js';

// Telegram albums arrive as one message per item; the gatherer makes them one task's message.

type FilesIncoming = Extract<Incoming, { kind: 'files' }>;

const part = (messageId: number, text = '', userId = '7', replyTo: string | null = null): FilesIncoming => ({
  platform: 'telegram',
  chatId: '7',
  messageId: String(messageId),
  userId,
  replyToMessageId: replyTo,
  kind: 'files',
  text,
  files: [
    {
      fileName: `photo-of-${messageId}.jpg`,
      mimeType: 'image/jpeg',
      sizeBytes: 1,
      download: async () => new Uint8Array([messageId]),
    },
  ],
});

/** The gatherer and what it handed on; `merged()` narrows each to the files message an album becomes. */
function gatherer() {
  const handed: Incoming[] = [];
  const albums = createAlbumGatherer((incoming) => handed.push(incoming));
  return { albums, handed, merged: () => handed.map(filesOf) };
}

function filesOf(incoming: Incoming): FilesIncoming {
  if (incoming.kind !== 'files') throw new Error(`expected a files message, got ${incoming.kind}`);
  return incoming;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('telegram album gatherer', () => {
  it('hands on one message once the album is quiet: first id, every file in order, the caption, the rest linked', () => {
    const { albums, handed, merged } = gatherer();
    albums.add('g', part(12, '', '7', '5'));
    albums.add('g', part(10));
    vi.advanceTimersByTime(ALBUM_QUIET_MS - 1);
    albums.add('g', part(11, 'what differs?'));
    vi.advanceTimersByTime(ALBUM_QUIET_MS - 1);
    expect(handed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(handed).toHaveLength(1);
    expect(merged()[0]).toMatchObject({
      messageId: '10',
      text: 'what differs?',
      replyToMessageId: '5',
      albumMessageIds: ['11', '12'],
    });
    expect(merged()[0]?.files.map((file) => file.fileName)).toEqual([
      'photo-of-10.jpg',
      'photo-of-11.jpg',
      'photo-of-12.jpg',
    ]);
  });

  it('keeps every caption when several photos carry one, in the order they were sent', () => {
    const { albums, merged } = gatherer();
    albums.add('g', part(21, 'the second screen'));
    albums.add('g', part(20, 'the first screen'));
    albums.add('g', part(22, '  '));
    albums.flush();
    expect(merged()[0]?.text).toBe('the first screen\n\nthe second screen');
  });

  it('a text sent right after the photos waits behind the album, so it runs after them, as sent', () => {
    const { albums, handed } = gatherer();
    const text = (messageId: number, chatId = '7'): Incoming => ({
      platform: 'telegram',
      chatId,
      messageId: String(messageId),
      userId: '7',
      replyToMessageId: null,
      kind: 'text',
      text: `message ${messageId}`,
    });
    albums.pass(text(1));
    albums.add('g', part(2, 'the screenshots'));
    albums.add('g', part(3));
    albums.pass(text(4));
    albums.pass(text(5, 'another chat'));
    expect(handed.map((incoming) => incoming.messageId)).toEqual(['1', '5']);
    vi.advanceTimersByTime(ALBUM_QUIET_MS);
    expect(handed.map((incoming) => [incoming.messageId, incoming.kind])).toEqual([
      ['1', 'text'],
      ['5', 'text'],
      ['2', 'files'],
      ['4', 'text'],
    ]);
  });

  it('keeps albums of different groups and different users apart', () => {
    const { albums, merged } = gatherer();
    albums.add('g1', part(1, 'one'));
    albums.add('g2', part(2, 'two'));
    albums.add('g1', part(3, '', '8'));
    vi.advanceTimersByTime(ALBUM_QUIET_MS);
    expect(merged().map((merged) => [merged.messageId, merged.files.length])).toEqual([
      ['1', 1],
      ['2', 1],
      ['3', 1],
    ]);
  });

  it('on shutdown hands on what it holds at once, so no photo the user sent is dropped', () => {
    const { albums, handed, merged } = gatherer();
    albums.add('g', part(1, 'caption'));
    albums.add('g', part(2));
    albums.flush();
    expect(merged().map((merged) => merged.albumMessageIds)).toEqual([['2']]);
    expect(merged()[0]?.text).toBe('caption');
    vi.advanceTimersByTime(ALBUM_QUIET_MS * 2);
    expect(handed).toHaveLength(1);
  });
});
