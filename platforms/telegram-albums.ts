import type { Incoming } from './platform.js';

// Telegram sends an album (several photos or files at once) as one message per item, sharing a
// `media_group_id`, with the caption on one of them. The user meant one task: the parts are gathered until the
// album has been quiet for a moment, then handed on as one `files` message (the first part's id, every file,
// every caption, the other parts' ids) — so one task sees all the pictures, and a reply to any part forks it.

type FilesIncoming = Extract<Incoming, { kind: 'files' }>;

/** Telegram delivers an album's parts within a few hundred milliseconds of each other. */
export const ALBUM_QUIET_MS = 800;

export interface AlbumGatherer {
  add(groupId: string, part: FilesIncoming): void;
  /** Hands on every album still gathering at once (shutdown: the user hears of it rather than nothing). */
  flush(): void;
}

interface Gathering {
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
  emit: (merged: FilesIncoming) => void,
  quietMs: number = ALBUM_QUIET_MS,
): AlbumGatherer {
  const gathering = new Map<string, Gathering>();
  const finish = (key: string): void => {
    const album = gathering.get(key);
    if (album === undefined) return;
    gathering.delete(key);
    clearTimeout(album.timer);
    emit(mergeAlbum(album.parts));
  };
  return {
    add(groupId, part) {
      // Ids are per chat on Telegram; the chat keeps two users' albums apart in a group.
      const key = `${part.chatId}:${part.userId}:${groupId}`;
      const album = gathering.get(key);
      if (album !== undefined) clearTimeout(album.timer);
      const parts = album === undefined ? [part] : [...album.parts, part];
      gathering.set(key, { parts, timer: setTimeout(() => finish(key), quietMs) });
    },
    flush() {
      for (const key of [...gathering.keys()]) finish(key);
    },
  };
}
