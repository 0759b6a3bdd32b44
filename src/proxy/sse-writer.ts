import type { AnthropicEvent } from './anthropic-types.js';

// Frames events as SSE with the `event:` line the CLI requires (a data-only stream makes it fall back).
// Event names come from our own union, never from input, so no newline can reach a frame header.

export function toSse(events: readonly AnthropicEvent[]): string {
  let out = '';
  for (const event of events) out += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return out;
}

export interface CoalescingWriter {
  /** Queues events; they go out together with everything else queued in this turn of the event loop. */
  write(events: readonly AnthropicEvent[]): void;
  /** Sends whatever is queued now (before ending the response). */
  flush(): void;
}

/**
 * One socket write per event-loop turn instead of one per upstream read: a provider's burst of small chunks
 * costs one syscall, not fifty. Latency added: at most the rest of the current turn.
 */
export function createCoalescingWriter(
  sink: { write(text: string): unknown; readonly destroyed: boolean },
  schedule: (run: () => void) => void,
): CoalescingWriter {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    if (!sink.destroyed) sink.write(text);
  };
  return {
    write(events) {
      if (events.length === 0) return;
      pending += toSse(events);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}
