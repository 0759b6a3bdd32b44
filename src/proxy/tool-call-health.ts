import { isRecord, type Json, str } from './anthropic-types.js';

// "Sends a malformed tool call twice", one of MODEL_FALLBACKS' triggers. A tool call whose arguments are not
// JSON cannot run: the CLI answers it with an InputValidationError and asks the same model again, which a
// model that garbles its calls does again, in a loop (40 turns in a test before the CLI gave up). So a model
// whose answers carried a malformed call twice in a row in one conversation is benched for that conversation:
// its next requests go to the tier's next model. Other conversations keep it (a long context is the usual
// culprit, not the model as a whole), and a good answer in between resets the count, as one slip is common.

/** Malformed answers in a row, from one provider+model in one conversation, that bench it there. */
export const MALFORMED_IN_A_ROW = 2;
/** How long a bench lasts; then the model gets the conversation back (a fresh count), as after a restart. */
export const BENCH_MS = 30 * 60_000;
/** Conversations remembered; the oldest is forgotten first, so a long-running relay stays bounded. */
const REMEMBERED = 1000;

export interface ToolCallHealth {
  /** Whether `route` (provider/model) is benched in this conversation now. */
  benched(conversation: string, route: string): boolean;
  /** A whole answer from `route`: did it carry a malformed tool call? True when this answer benched it. */
  record(conversation: string, route: string, malformed: boolean): boolean;
}

/**
 * The conversation a request belongs to: the CLI's session id from `metadata.user_id` (a JSON string since
 * 2.1.x, `user_…_session_<uuid>` before), or '' for clients that send none (they share one count per model).
 */
export function conversationOf(request: Json): string {
  const userId = isRecord(request.metadata) ? str(request.metadata.user_id) : undefined;
  if (userId === undefined) return '';
  try {
    const parsed: unknown = JSON.parse(userId);
    if (isRecord(parsed)) return str(parsed.session_id) ?? '';
  } catch {
    // the older plain-string form
  }
  return /session_([\w-]+)/.exec(userId)?.[1] ?? '';
}

export function createToolCallHealth(now: () => number = Date.now): ToolCallHealth {
  /** Per conversation and route: malformed answers in a row, and when a bench ends (0: not benched). */
  const entries = new Map<string, { inARow: number; benchedUntil: number }>();
  const keyOf = (conversation: string, route: string) => `${conversation}\u0000${route}`;
  return {
    benched(conversation, route) {
      const entry = entries.get(keyOf(conversation, route));
      return entry !== undefined && entry.benchedUntil > now();
    },
    record(conversation, route, malformed) {
      const key = keyOf(conversation, route);
      const entry = entries.get(key);
      if (!malformed) {
        entries.delete(key);
        return false;
      }
      // A benched model still answers when it is the last one left; its slips then do not lift the bench.
      const stillBenched = entry !== undefined && entry.benchedUntil > now();
      const inARow = stillBenched ? 0 : (entry?.inARow ?? 0) + 1;
      const benches = inARow >= MALFORMED_IN_A_ROW;
      entries.delete(key); // re-inserted last: Map order is the eviction order
      entries.set(key, {
        inARow: benches ? 0 : inARow,
        benchedUntil: benches ? now() + BENCH_MS : (entry?.benchedUntil ?? 0),
      });
      if (stillBenched) return false;
      if (entries.size > REMEMBERED) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return benches;
    },
  };
}
