import type { AnthropicEvent, AnthropicMessage, OutputBlock } from './anthropic-types.js';
import { isRecord } from './anthropic-types.js';
import { createSseDecoder } from './sse-decoder.js';

// The Anthropic stream contract, as shipped code: used by every streaming test and usable in live checks.
// `assertAnthropicStream` throws a StreamContractError naming the first violation; `reduceMessage` folds a
// valid stream into the message it describes (the non-streaming answer is built with it).

export class StreamContractError extends Error {
  readonly kind = 'upstream_protocol';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`stream contract violated at event ${position}: ${message}`);
    this.name = 'StreamContractError';
  }
}

const DELTA_FOR: Record<string, string[]> = {
  text: ['text_delta'],
  thinking: ['thinking_delta', 'signature_delta'],
  tool_use: ['input_json_delta'],
};

/** Checks the event order rules the CLI relies on. `allowError`: an `error` event may end the stream. */
export function assertAnthropicStream(
  events: readonly AnthropicEvent[],
  options: { allowError?: boolean } = {},
): void {
  const kinds = new Map<number, string>();
  const closed = new Set<number>();
  let openIndex: number | undefined;
  let started = false;
  let ended = false;
  let sawDelta = false;
  events.forEach((event, at) => {
    const fail = (message: string) => {
      throw new StreamContractError(message, at);
    };
    if (ended) fail(`${event.type} after the stream ended`);
    if (!started && event.type !== 'message_start' && !(event.type === 'error' && options.allowError)) {
      fail(`${event.type} before message_start`);
    }
    switch (event.type) {
      case 'message_start':
        if (started) fail('second message_start');
        started = true;
        return;
      case 'content_block_start':
        if (sawDelta) fail('content block after message_delta');
        if (kinds.has(event.index)) fail(`block ${event.index} started twice`);
        if (event.index !== kinds.size) fail(`block index ${event.index}, expected ${kinds.size}`);
        if (openIndex !== undefined) fail(`block ${event.index} started while ${openIndex} is open`);
        kinds.set(event.index, event.content_block.type);
        openIndex = event.index;
        return;
      case 'content_block_delta': {
        const kind = kinds.get(event.index);
        if (kind === undefined || closed.has(event.index))
          fail(`delta for block ${event.index} which is not open`);
        if (!DELTA_FOR[kind ?? '']?.includes(event.delta.type))
          fail(`${event.delta.type} in a ${kind} block`);
        return;
      }
      case 'content_block_stop':
        if (openIndex !== event.index) fail(`stop for block ${event.index} which is not open`);
        closed.add(event.index);
        openIndex = undefined;
        return;
      case 'message_delta':
        if (openIndex !== undefined) fail(`message_delta while block ${openIndex} is open`);
        if (sawDelta) fail('second message_delta');
        sawDelta = true;
        return;
      case 'message_stop':
        if (!sawDelta) fail('message_stop without message_delta');
        ended = true;
        return;
      case 'ping':
        return;
      case 'error':
        if (!options.allowError) fail(`error event: ${event.error.message}`);
        ended = true;
        return;
      default: {
        const never: never = event;
        fail(`unknown event ${JSON.stringify(never)}`);
      }
    }
  });
  if (!ended) throw new StreamContractError('stream has no message_stop', events.length);
}

/** Parses SSE text as the CLI does (`event:` lines required) into events; throws on a data-only frame. */
export function parseAnthropicSse(text: string): AnthropicEvent[] {
  const events: AnthropicEvent[] = [];
  const decoder = createSseDecoder({
    onMessage({ event, data }) {
      const value: unknown = JSON.parse(data);
      if (!isRecord(value) || typeof value.type !== 'string')
        throw new Error(`SSE data is not an event: ${data}`);
      if (event !== value.type)
        throw new Error(`SSE event line '${event}' does not match data type '${value.type}'`);
      // Shape beyond `type` is checked by assertAnthropicStream.
      events.push(value as unknown as AnthropicEvent);
    },
  });
  decoder.feed(text);
  decoder.flush();
  return events;
}

/** Folds a complete, valid stream into the message it describes. */
export function reduceMessage(events: readonly AnthropicEvent[]): AnthropicMessage {
  const message: AnthropicMessage = {
    id: '',
    type: 'message',
    role: 'assistant',
    model: '',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  };
  const json = new Map<number, string>();
  for (const event of events) {
    if (event.type === 'message_start') {
      message.id = event.message.id;
      message.model = event.message.model;
      message.usage = { ...event.message.usage };
    } else if (event.type === 'content_block_start') {
      const block = event.content_block;
      const start: OutputBlock =
        block.type === 'tool_use'
          ? { type: 'tool_use', id: block.id, name: block.name, input: {} }
          : { ...block };
      message.content[event.index] = start;
    } else if (event.type === 'content_block_delta') {
      const block = message.content[event.index];
      const delta = event.delta;
      if (block?.type === 'text' && delta.type === 'text_delta') block.text += delta.text;
      else if (block?.type === 'thinking' && delta.type === 'thinking_delta')
        block.thinking += delta.thinking;
      else if (block?.type === 'thinking' && delta.type === 'signature_delta')
        block.signature += delta.signature;
      else if (block?.type === 'tool_use' && delta.type === 'input_json_delta') {
        json.set(event.index, (json.get(event.index) ?? '') + delta.partial_json);
      }
    } else if (event.type === 'message_delta') {
      message.stop_reason = event.delta.stop_reason;
      message.stop_sequence = event.delta.stop_sequence;
      message.usage = { ...event.usage };
    }
  }
  for (const [index, text] of json) {
    const block = message.content[index];
    if (block?.type !== 'tool_use') continue;
    try {
      const input: unknown = JSON.parse(text);
      block.input = isRecord(input) ? input : {};
    } catch {
      block.input = {}; // the model's arguments were not JSON; the tool reports the missing fields
    }
  }
  return message;
}
