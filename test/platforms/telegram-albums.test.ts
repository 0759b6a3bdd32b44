import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Incoming } from '../../platforms/platform.js';
import { ALBUM_QUIET_MS, createAlbumGatherer } from '../../platforms/telegram-albums.js';

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

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('telegram album gatherer', () => {
  it('hands on one message once the album is quiet: first id, every file in order, the caption, the rest linked', () => {
    const out: FilesIncoming[] = [];
    const albums = createAlbumGatherer((merged) => out.push(merged));
    albums.add('g', part(12, '', '7', '5'));
    albums.add('g', part(10));
    vi.advanceTimersByTime(ALBUM_QUIET_MS - 1);
    albums.add('g', part(11, 'what differs?'));
    vi.advanceTimersByTime(ALBUM_QUIET_MS - 1);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      messageId: '10',
      text: 'what differs?',
      replyToMessageId: '5',
      albumMessageIds: ['11', '12'],
    });
    expect(out[0]?.files.map((file) => file.fileName)).toEqual([
      'photo-of-10.jpg',
      'photo-of-11.jpg',
      'photo-of-12.jpg',
    ]);
  });

  it('keeps every caption when several photos carry one, in the order they were sent', () => {
    const out: FilesIncoming[] = [];
    const albums = createAlbumGatherer((merged) => out.push(merged));
    albums.add('g', part(21, 'the second screen'));
    albums.add('g', part(20, 'the first screen'));
    albums.add('g', part(22, '  '));
    albums.flush();
    expect(out[0]?.text).toBe('the first screen\n\nthe second screen');
  });

  it('keeps albums of different groups and different users apart', () => {
    const out: FilesIncoming[] = [];
    const albums = createAlbumGatherer((merged) => out.push(merged));
    albums.add('g1', part(1, 'one'));
    albums.add('g2', part(2, 'two'));
    albums.add('g1', part(3, '', '8'));
    vi.advanceTimersByTime(ALBUM_QUIET_MS);
    expect(out.map((merged) => [merged.messageId, merged.files.length])).toEqual([
      ['1', 1],
      ['2', 1],
      ['3', 1],
    ]);
  });

  it('on shutdown hands on what it holds at once, so no photo the user sent is dropped', () => {
    const out: FilesIncoming[] = [];
    const albums = createAlbumGatherer((merged) => out.push(merged));
    albums.add('g', part(1, 'caption'));
    albums.add('g', part(2));
    albums.flush();
    expect(out.map((merged) => merged.albumMessageIds)).toEqual([['2']]);
    expect(out[0]?.text).toBe('caption');
    vi.advanceTimersByTime(ALBUM_QUIET_MS * 2);
    expect(out).toHaveLength(1);
  });
});
