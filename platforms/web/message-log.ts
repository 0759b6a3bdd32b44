import type { ChatButton } from '../render/index.js';

// What the console shows, kept by the relay: every message of the console's chat, and a numbered log of each
// change to them. A page loads the messages with the number of the last change, then follows the changes
// after it; a page that reconnects names the last change it saw and gets exactly the ones after it. Pure.

export interface WebFile {
  name: string;
  sizeBytes: number;
  /** A file the relay sent that is text (a `/diff` patch): shown in the page, in a fold. */
  text?: string;
}

export interface WebMessage {
  id: string;
  author: 'user' | 'relay';
  replyTo: string | null;
  /** The relay's markup (webHtml: everything from outside is escaped), or null to show `text` as plain text. */
  html: string | null;
  /** What the user typed, or the relay message without markup. */
  text: string;
  buttons: ChatButton[];
  /** Files and voice notes the user sent with it (names as given: the page shows them as text). */
  files: WebFile[];
  at: number;
}

export type WebChange =
  | { kind: 'message'; message: WebMessage }
  | { kind: 'delete'; id: string }
  /** A short note for the person who pressed a button (a toast). */
  | { kind: 'notice'; text: string }
  /** A conversation node changed (its state, or it was added or removed): the tree redraws it. */
  | { kind: 'node'; nodeId: string };

export interface LoggedChange {
  /** `<boot>:<seq>`: a page that names an id of an earlier run of the relay starts over. */
  id: string;
  change: WebChange;
}

export type ChangesAfter = { kind: 'changes'; changes: LoggedChange[] } | { kind: 'reload' };

export interface MessageLog {
  readonly boot: string;
  lastId(): string;
  messages(): WebMessage[];
  get(id: string): WebMessage | undefined;
  /** Adds the message, or replaces the one with its id. */
  put(message: WebMessage): LoggedChange;
  remove(id: string): LoggedChange | null;
  note(change: WebChange): LoggedChange;
  /** The changes after `lastSeen`; `reload` when they are no longer all kept or the id is of another run. */
  after(lastSeen: string | null): ChangesAfter;
}

export function createMessageLog(boot: string, keepChanges: number): MessageLog {
  const messages = new Map<string, WebMessage>();
  const changes: LoggedChange[] = [];
  let seq = 0;
  const idOf = (n: number): string => `${boot}:${n}`;

  const log = (change: WebChange): LoggedChange => {
    seq += 1;
    const logged = { id: idOf(seq), change };
    changes.push(logged);
    if (changes.length > keepChanges) changes.splice(0, changes.length - keepChanges);
    return logged;
  };

  return {
    boot,
    lastId: () => idOf(seq),
    messages: () => [...messages.values()],
    get: (id) => messages.get(id),
    put(message) {
      messages.set(message.id, message);
      return log({ kind: 'message', message });
    },
    remove(id) {
      if (!messages.delete(id)) return null;
      return log({ kind: 'delete', id });
    },
    note: log,
    after(lastSeen) {
      if (lastSeen === null) return { kind: 'changes', changes: [] };
      const [seenBoot, seenSeq] = lastSeen.split(':');
      const n = Number(seenSeq);
      if (seenBoot !== boot || !Number.isInteger(n) || n < 0 || n > seq) return { kind: 'reload' };
      const oldest = changes[0] === undefined ? seq + 1 : seq - changes.length + 1;
      if (n + 1 < oldest) return { kind: 'reload' };
      return { kind: 'changes', changes: changes.slice(changes.length - (seq - n)) };
    },
  };
}
