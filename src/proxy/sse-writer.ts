import type { AnthropicEvent } from './anthropic-types.js';

// Frames events as SSE with the `event:` line the CLI requires (a data-only stream makes it fall back).
// Event names come from our own union, never from input, so no newline can reach a frame header.

/** One event's frame. Deltas (nearly every frame of an answer) are assembled by hand: same JSON, less work. */
function frame(event: AnthropicEvent): string {
  if (event.type === 'content_block_delta') {
    const { delta, index } = event;
    const head = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${delta.type}",`;
    switch (delta.type) {
      case 'text_delta':
        return `${head}"text":${JSON.stringify(delta.text)}}}\n\n`;
      case 'thinking_delta':
        return `${head}"thinking":${JSON.stringify(delta.thinking)}}}\n\n`;
      case 'input_json_delta':
        return `${head}"partial_json":${JSON.stringify(delta.partial_json)}}}\n\n`;
      case 'signature_delta':
        return `${head}"signature":${JSON.stringify(delta.signature)}}}\n\n`;
      default:
        return checkNever(delta);
    }
  }
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function checkNever(value: never): never {
  throw new Error(`unknown delta ${JSON.stringify(value)}`);
}

export function toSse(events: readonly AnthropicEvent[]): string {
  let out = '';
  for (const event of events) out += frame(event);
  return out;
}

export interface CoalescingWriter {
  /** Queues events; they go out together with everything else queued in this turn of the event loop. */
  write(events: readonly AnthropicEvent[]): void;
  /** Sends whatever is queued now. */
  flush(): void;
  /** Ends the response, with whatever is still queued in the same write. */
  end(): void;
}

/**
 * At most two socket writes per event-loop turn instead of one per upstream read: the first batch of a turn
 * goes out at once (no added latency), later ones in the same turn are joined and sent when it ends, so a
 * provider's burst of small chunks costs two syscalls, not fifty.
 */
export function createCoalescingWriter(
  sink: { write(text: string): unknown; end(text?: string): unknown; readonly destroyed: boolean },
  schedule: (run: () => void) => void,
): CoalescingWriter {
  let pending = '';
  let turnOpen = false; // something was written in this turn; a flush is scheduled for its end
  const flush = () => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    if (!sink.destroyed) sink.write(text);
  };
  const endOfTurn = () => {
    turnOpen = false;
    flush();
  };
  return {
    write(events) {
      if (events.length === 0) return;
      if (turnOpen) {
        pending += toSse(events);
        return;
      }
      turnOpen = true;
      schedule(endOfTurn);
      if (!sink.destroyed) sink.write(toSse(events));
    },
    flush,
    end() {
      const text = pending;
      pending = '';
      if (!sink.destroyed) sink.end(text === '' ? undefined : text);
    },
  };
}
