// Wire types of the Anthropic Messages API as far as the proxy reads or writes them, plus tiny guards for
// parsing foreign JSON without casts. Pure: no I/O.

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence';

export interface Usage {
  /** Input not read from the provider's prompt cache. */
  input_tokens: number;
  output_tokens: number;
  /** Input the provider served from its prompt cache (OpenAI `prompt_tokens_details.cached_tokens`). */
  cache_read_input_tokens?: number;
}

export type OutputBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export type BlockStart =
  | { type: 'text'; text: '' }
  | { type: 'thinking'; thinking: ''; signature: '' }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, never> };

export type BlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'input_json_delta'; partial_json: string };

export interface MessageShell {
  id: string;
  type: 'message';
  role: 'assistant';
  content: [];
  model: string;
  stop_reason: null;
  stop_sequence: null;
  usage: Usage;
}

export type AnthropicEvent =
  | { type: 'message_start'; message: MessageShell }
  | { type: 'content_block_start'; index: number; content_block: BlockStart }
  | { type: 'content_block_delta'; index: number; delta: BlockDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: StopReason; stop_sequence: string | null };
      usage: Usage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type: AnthropicErrorType; message: string } };

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

/** The complete non-streaming answer, folded from the same events a stream would carry. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: OutputBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: Usage;
}

// Guards over unknown JSON live in the shared leaf; re-exported so the proxy's files import one place.
export { isRecord, type Json, num, records, str } from '../common/index.js';
