import { createHash } from 'node:crypto';

// API clients send the whole history with every request. This maps a history to the CLI session that already
// holds it: each finished answer is remembered under the fingerprint of the history it completes, so the next
// request, whose history starts with it, continues that session as a fork, and an edited or branched history
// forks where it diverges (the longest remembered prefix). Pure but for hashing; the index is per process.

export type Role = 'user' | 'assistant';

export interface Turn {
  role: Role;
  text: string;
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
  const hash = createHash('sha256');
  hash.update(`${conversation.scope ?? ''}\u0000${conversation.system.trim()}`);
  for (const turn of conversation.turns.slice(0, length)) {
    hash.update(`\u0000${turn.role}\u0000${turn.text.trim()}`);
  }
  return hash.digest('hex');
}

export interface Continuation<T> {
  /** What the remembered prefix ended with (the answer's node), or null: a new conversation. */
  parent: T | null;
  /** The prompt for the new run: the turns after the prefix, as the model should read them. */
  prompt: string;
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
  for (let length = turns.length - 1; length > 0; length--) {
    if (turns[length - 1]?.role !== 'assistant') continue;
    const parent = find(historyKey(conversation, length));
    if (parent !== undefined) return { parent, prompt: promptOf(turns.slice(length)) };
  }
  return { parent: null, prompt: promptOf(turns) };
}

/** The turns as the model should read them: one message alone, several as a transcript. */
export function promptOf(turns: readonly Turn[]): string {
  if (turns.length === 1) return turns[0]?.text ?? '';
  const lines = ['(The conversation so far, then the new message to answer.)', ''];
  for (const [index, turn] of turns.entries()) {
    const last = index === turns.length - 1;
    lines.push(
      last ? 'New message from the user:' : turn.role === 'user' ? 'User:' : 'Assistant:',
      turn.text,
      '',
    );
  }
  return lines.join('\n').trimEnd();
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
