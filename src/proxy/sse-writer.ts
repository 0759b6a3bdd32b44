import type { AnthropicEvent } from './anthropic-types.js';

// Frames events as SSE with the `event:` line the CLI requires (a data-only stream makes it fall back).
// Event names come from our own union, never from input, so no newline can reach a frame header.

export function toSse(events: readonly AnthropicEvent[]): string {
  let out = '';
  for (const event of events) out += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return out;
}
