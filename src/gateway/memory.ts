import type { MessageRef } from '../../sessions/index.js';
import {
  type Continuation,
  type Conversation,
  continuationOf,
  createConversationIndex,
} from './conversation.js';

// What the gateway remembers of its conversations, per process: each answer under the history it completes, and
// each conversation's latest answer for a client that names it (`X-Session-Id`). Both bounded.

const LIMIT = 10_000;
/** Whole answers kept for `GET /v1/responses/{id}`: fewer, as each holds its text. */
const STORED_LIMIT = 500;

export interface ConversationMemory {
  /** The answer a Responses API id names (`previous_response_id`), if still there. */
  byResponse(scope: string, responseId: string): MessageRef | undefined;
  /** Where a request continues; `exists` says whether a remembered answer's node is still there. */
  continueFrom(conversation: Conversation, sessionId: string | undefined): Continuation<MessageRef>;
  remember(
    conversation: Conversation,
    answer: RememberedAnswer,
    ref: MessageRef,
    conversationId: string,
  ): void;
  /** A Responses API answer as it was sent, for a client that reads it back (`store`). */
  store(scope: string, responseId: string, body: unknown): void;
  stored(scope: string, responseId: string): unknown;
}

export interface RememberedAnswer {
  text: string;
  /** A Responses API id a later request may name. */
  responseId?: string;
  /** False when the request's turns were only the new part (`previous_response_id`): a history that does not
   * begin at the start must not be found by a client re-sending its whole history. */
  wholeHistory: boolean;
}

/** A Map that forgets its oldest entry past its limit. */
function remember<V>(map: Map<string, V>, key: string, value: V, limit = LIMIT): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

export function createConversationMemory(exists: (ref: MessageRef) => boolean): ConversationMemory {
  const answers = createConversationIndex<MessageRef>(LIMIT);
  const latest = new Map<string, MessageRef>();
  const responses = new Map<string, MessageRef>();
  const bodies = new Map<string, unknown>();
  return {
    store(scope, responseId, body) {
      remember(bodies, `${scope}:${responseId}`, body, STORED_LIMIT);
    },
    stored: (scope, responseId) => bodies.get(`${scope}:${responseId}`),
    byResponse(scope, responseId) {
      const ref = responses.get(`${scope}:${responseId}`);
      return ref !== undefined && exists(ref) ? ref : undefined;
    },
    continueFrom(conversation, sessionId) {
      // A remembered answer whose node a chat's /clear removed cannot be forked: the transcript stands in.
      const found = continuationOf(conversation, (key) => {
        const ref = answers.find(key);
        return ref !== undefined && exists(ref) ? ref : undefined;
      });
      if (found.parent !== null || !sessionId) return found;
      // A history never seen, in a conversation the client names: continue its latest answer with the new
      // message. An id the gateway does not know (from before a restart, another program's header) starts afresh.
      const named = latest.get(`${conversation.scope ?? ''}:${sessionId}`);
      if (named === undefined || !exists(named)) return found;
      const last = conversation.turns.at(-1);
      return { parent: named, prompt: last?.text ?? '', images: last?.images ?? [] };
    },
    remember(conversation, answer, ref, conversationId) {
      const scope = conversation.scope ?? '';
      if (answer.wholeHistory) answers.remember(conversation, answer.text, ref);
      remember(latest, `${scope}:${conversationId}`, ref);
      if (answer.responseId !== undefined) remember(responses, `${scope}:${answer.responseId}`, ref);
    },
  };
}
