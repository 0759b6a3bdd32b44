import type { Incoming } from '../platform.js';

// Telegram sends an album (several photos or files at once) as one message per item, sharing a
// `media_group_id`, with the caption on one of them. The user meant one task: the parts are gathered until the
// album has been quiet for a moment, then handed on as one `files` message (the first part's id, every file,
// every caption, the other parts' ids) — so one task sees all the pictures, and a reply to any part forks it.

type FilesIncoming = Extract<Incoming, { kind: 'files' }>;

/** Telegram delivers an album's parts within a few hundred milliseconds of each other. */
export const ALBUM_QUIET_MS = 800;

export interface AlbumGatherer {
  add(groupId: string, part: FilesIncoming): void;
  /**
   * Any other message: handed on at once, unless an album of the same chat is still gathering; then it
   * waits behind the album, so a text sent right after the photos runs after them, as sent.
   */
  pass(incoming: Incoming): void;
  /** Hands on every album still gathering at once (shutdown: the user hears of it rather than nothing). */
  flush(): void;
}

interface Gathering {
  chatId: string;
  parts: FilesIncoming[];
  timer: ReturnType<typeof setTimeout>;
}

export function mergeAlbum(parts: readonly FilesIncoming[]): FilesIncoming {
  const ordered = [...parts].sort((a, b) => Number(a.messageId) - Number(b.messageId));
  const [first, ...rest] = ordered;
  if (first === undefined) throw new Error('mergeAlbum: an album has at least one part');
  return {
    ...first,
    // Each photo of an album may carry its own caption: all of them are the task, in order.
    text: ordered
      .map((part) => part.text)
      .filter((text) => text.trim() !== '')
      .join('\n\n'),
    files: ordered.flatMap((part) => part.files),
    replyToMessageId: ordered.find((part) => part.replyToMessageId !== null)?.replyToMessageId ?? null,
    albumMessageIds: rest.map((part) => part.messageId),
  };
}

export function createAlbumGatherer(
  emit: (incoming: Incoming) => void,
  quietMs: number = ALBUM_QUIET_MS,
): AlbumGatherer {
  const gathering = new Map<string, Gathering>();
  /** Per chat, messages that arrived while one of its albums was gathering, in order. */
  const held = new Map<string, Incoming[]>();
  const gatheringIn = (chatId: string): boolean =>
    [...gathering.values()].some((album) => album.chatId === chatId);
  const finish = (key: string): void => {
    const album = gathering.get(key);
    if (album === undefined) return;
    gathering.delete(key);
    clearTimeout(album.timer);
    emit(mergeAlbum(album.parts));
    if (gatheringIn(album.chatId)) return;
    const waiting = held.get(album.chatId) ?? [];
    held.delete(album.chatId);
    for (const incoming of waiting) emit(incoming);
  };
  return {
    add(groupId, part) {
      // Ids are per chat on Telegram; the chat keeps two users' albums apart in a group.
      const key = `${part.chatId}:${part.userId}:${groupId}`;
      const album = gathering.get(key);
      if (album !== undefined) clearTimeout(album.timer);
      const parts = album === undefined ? [part] : [...album.parts, part];
      gathering.set(key, { chatId: part.chatId, parts, timer: setTimeout(() => finish(key), quietMs) });
    },
    pass(incoming) {
      if (!gatheringIn(incoming.chatId)) {
        emit(incoming);
        return;
      }
      const waiting = held.get(incoming.chatId) ?? [];
      waiting.push(incoming);
      held.set(incoming.chatId, waiting);
    },
    flush() {
      for (const key of [...gathering.keys()]) finish(key);
    },
  };
}
