import { createHash } from 'node:crypto';
import type { PromptImage } from '../../sessions/index.js';

// API clients send the whole history with every request. This maps a history to the CLI session that already
// holds it: each finished answer is remembered under the fingerprint of the history it completes, so the next
// request, whose history starts with it, continues that session as a fork, and an edited or branched history
// forks where it diverges (the longest remembered prefix). Pure but for hashing; the index is per process.

export type Role = 'user' | 'assistant';

export interface Turn {
  role: Role;
  text: string;
  /** Images sent with the turn (user turns): given to the CLI with the prompt they belong to. */
  images?: PromptImage[];
}

/** One API request, whatever its shape (OpenAI chat, Anthropic messages, /chat). */
export interface Conversation {
  /** Whose conversation (the API key it came with): one client never continues another's session. */
  scope?: string;
  /** The client's system prompt ('' when none): part of the conversation's identity. */
  system: string;
  /** Oldest first; the last is the user's new message. */
  turns: Turn[];
}

/**
 * A fingerprint of the scope, the system prompt and the first `length` turns. Texts are trimmed: clients often
 * send an answer back without the whitespace it came with.
 */
export function historyKey(conversation: Conversation, length = conversation.turns.length): string {
  return historyKeys(conversation, length)[length] ?? '';
}

/** The fingerprints of every prefix up to `upTo` turns (index = length), in one pass over the history. */
function historyKeys(conversation: Conversation, upTo = conversation.turns.length): string[] {
  const hash = createHash('sha256');
  hash.update(`${conversation.scope ?? ''}\u0000${conversation.system.trim()}`);
  const keys = [hash.copy().digest('hex')];
  for (const turn of conversation.turns.slice(0, upTo)) {
    hash.update(`\u0000${turn.role}\u0000${turn.text.trim()}`);
    // Two turns with the same words and other pictures are other histories.
    for (const image of turn.images ?? []) hash.update(`\u0000${image.mediaType}\u0000${image.data}`);
    keys.push(hash.copy().digest('hex'));
  }
  return keys;
}

export interface Continuation<T> {
  /** What the remembered prefix ended with (the answer's node), or null: a new conversation. */
  parent: T | null;
  /** The prompt for the new run: the turns after the prefix, as the model should read them. */
  prompt: string;
  /** The images of those turns, in order. */
  images: PromptImage[];
}

/**
 * Where a request continues: after the longest remembered prefix that ends with an answer. The turns after it
 * become the prompt: only the last user message when the client just added it, or a transcript of every turn
 * after the prefix (an edited, branched or never-seen history), so the model reads the conversation faithfully.
 */
export function continuationOf<T>(
  conversation: Conversation,
  find: (key: string) => T | undefined,
): Continuation<T> {
  const { turns } = conversation;
  const keys = historyKeys(conversation, turns.length - 1);
  for (let length = turns.length - 1; length > 0; length--) {
    if (turns[length - 1]?.role !== 'assistant') continue;
    const parent = find(keys[length] ?? '');
    if (parent !== undefined) return { parent, ...promptOf(turns.slice(length)) };
  }
  return { parent: null, ...promptOf(turns) };
}

/** The turns as the model should read them: one message alone, several as a transcript; their images. */
export function promptOf(turns: readonly Turn[]): { prompt: string; images: PromptImage[] } {
  const images = turns.flatMap((turn) => turn.images ?? []);
  if (turns.length === 1) return { prompt: turns[0]?.text ?? '', images };
  const lines = ['(The conversation so far, then the new message to answer.)', ''];
  for (const [index, turn] of turns.entries()) {
    const last = index === turns.length - 1;
    const pictures = turn.images?.length ? [`[${turn.images.length} image(s) attached]`] : [];
    lines.push(
      last ? 'New message from the user:' : turn.role === 'user' ? 'User:' : 'Assistant:',
      ...pictures,
      turn.text,
      '',
    );
  }
  return { prompt: lines.join('\n').trimEnd(), images };
}

/** Remembered answers by the fingerprint of the history they complete. Bounded: the oldest are forgotten. */
export function createConversationIndex<T>(limit = 10_000): {
  remember(conversation: Conversation, answer: string, value: T): void;
  find(key: string): T | undefined;
} {
  const entries = new Map<string, T>();
  return {
    remember(conversation, answer, value) {
      const key = historyKey({
        ...conversation,
        turns: [...conversation.turns, { role: 'assistant', text: answer }],
      });
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > limit) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
    },
    find: (key) => entries.get(key),
  };
}
