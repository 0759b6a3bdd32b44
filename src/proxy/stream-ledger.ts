import { isRecord } from '../common/index.js';
import type { AnthropicErrorType, AnthropicEvent, StopReason, Usage } from './anthropic-types.js';

// The one owner of an outgoing Anthropic stream's state. Intent methods return the events to send; nothing
// here touches a socket. Invariants: message_start first; one block open at a time; every block closed
// exactly once; exactly one terminal event (message_stop or error); nothing after it.

/** Sub-agent tools whose input is patched so the agent runs in the foreground (older CLIs call it Task). */
const FOREGROUND_TOOLS = new Set(['Agent', 'Task']);

export interface LedgerOptions {
  messageId: string;
  model: string;
  inputTokens: number;
  /** Value sent as the thinking block's signature: providers have none, the CLI wants one. */
  signature?: string;
}

type OpenBlock =
  | { kind: 'text'; index: number }
  | { kind: 'thinking'; index: number }
  | { kind: 'tool'; index: number; key: string };

interface ToolState {
  index: number;
  name: string;
  /** Arguments held back (sub-agent tools are emitted whole, patched). */
  held: string;
  closed: boolean;
}

export interface Ledger {
  start(): AnthropicEvent[];
  text(text: string): AnthropicEvent[];
  thinking(text: string): AnthropicEvent[];
  /** Opens a tool_use block for the upstream call `key` (idempotent). */
  toolStart(key: string, id: string, name: string): AnthropicEvent[];
  toolArgs(key: string, fragment: string): AnthropicEvent[];
  /** A tool call known whole at once (parsed from text). */
  toolWhole(id: string, name: string, input: Record<string, unknown>): AnthropicEvent[];
  ping(): AnthropicEvent[];
  finish(stopReason: StopReason, usage: Partial<Usage>): AnthropicEvent[];
  fail(type: AnthropicErrorType, message: string): AnthropicEvent[];
  readonly state: {
    started: boolean;
    ended: boolean;
    toolCalls: number;
    outputChars: number;
    /** Argument fragments of a tool whose block had already closed (upstream interleaving): counted, dropped. */
    droppedFragments: number;
  };
}

/** Forces `run_in_background: false` into a sub-agent call's JSON arguments; unparsable input becomes `{}`. */
function foregroundInput(json: string): string {
  let value: unknown;
  try {
    value = json.trim() === '' ? {} : JSON.parse(json);
  } catch {
    value = {};
  }
  const input = isRecord(value) ? value : {};
  return JSON.stringify({ ...input, run_in_background: false });
}

type LedgerState = Ledger['state'];

/** Between message_start and the terminal event: the only time content may be added. */
function isLive(state: LedgerState): boolean {
  return state.started && !state.ended;
}

function messageStart(options: LedgerOptions): AnthropicEvent {
  return {
    type: 'message_start',
    message: {
      id: options.messageId,
      type: 'message',
      role: 'assistant',
      content: [],
      model: options.model,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: options.inputTokens, output_tokens: 1 },
    },
  };
}

/** The stop reason and final usage; an answer that called tools stops with `tool_use` whatever upstream said. */
function messageDelta(
  stopReason: StopReason,
  usage: Partial<Usage>,
  state: LedgerState,
  inputTokens: number,
): AnthropicEvent {
  return {
    type: 'message_delta',
    delta: {
      stop_reason: stopReason === 'end_turn' && state.toolCalls > 0 ? 'tool_use' : stopReason,
      stop_sequence: null,
    },
    usage: {
      input_tokens: usage.input_tokens ?? inputTokens,
      output_tokens: usage.output_tokens ?? Math.max(1, Math.ceil(state.outputChars / 4)),
      ...(usage.cache_read_input_tokens === undefined
        ? {}
        : { cache_read_input_tokens: usage.cache_read_input_tokens }),
    },
  };
}

/**
 * The content blocks of one message: which one is open, the next index, and each tool call by its upstream
 * key. Opening a block closes the open one first, so one is open at a time and each closes exactly once.
 */
function createBlocks(state: LedgerState, signature: string) {
  const tools = new Map<string, ToolState>();
  let open: OpenBlock | undefined;
  let nextIndex = 0;

  function close(out: AnthropicEvent[]): void {
    if (!open) return;
    const index = open.index;
    if (open.kind === 'thinking') {
      out.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } });
    } else if (open.kind === 'tool') {
      const tool = tools.get(open.key);
      if (tool) {
        if (FOREGROUND_TOOLS.has(tool.name)) {
          out.push({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: foregroundInput(tool.held) },
          });
        }
        tool.closed = true;
      }
    }
    out.push({ type: 'content_block_stop', index });
    open = undefined;
  }

  function ensure(kind: 'text' | 'thinking', out: AnthropicEvent[]): number {
    if (open?.kind === kind) return open.index;
    close(out);
    const index = nextIndex++;
    open = { kind, index };
    out.push({
      type: 'content_block_start',
      index,
      content_block:
        kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
    });
    return index;
  }

  return {
    close,
    /** Closes the last block; an empty answer still gets one (empty) text block. */
    end(out: AnthropicEvent[]): void {
      if (nextIndex === 0) ensure('text', out);
      close(out);
    },
    append(kind: 'text' | 'thinking', text: string): AnthropicEvent[] {
      if (!isLive(state) || text === '') return [];
      const out: AnthropicEvent[] = [];
      const index = ensure(kind, out);
      state.outputChars += text.length;
      out.push({
        type: 'content_block_delta',
        index,
        delta: kind === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text },
      });
      return out;
    },
    toolStart(key: string, id: string, name: string): AnthropicEvent[] {
      if (!isLive(state) || tools.has(key)) return [];
      const out: AnthropicEvent[] = [];
      close(out);
      const index = nextIndex++;
      tools.set(key, { index, name, held: '', closed: false });
      open = { kind: 'tool', index, key };
      state.toolCalls++;
      out.push({
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id, name, input: {} },
      });
      return out;
    },
    toolArgs(key: string, fragment: string): AnthropicEvent[] {
      const tool = tools.get(key);
      if (!isLive(state) || !tool || fragment === '') return [];
      if (tool.closed) {
        state.droppedFragments++;
        return [];
      }
      state.outputChars += fragment.length;
      if (FOREGROUND_TOOLS.has(tool.name)) {
        tool.held += fragment;
        return [];
      }
      return [
        {
          type: 'content_block_delta',
          index: tool.index,
          delta: { type: 'input_json_delta', partial_json: fragment },
        },
      ];
    },
  };
}

export function createAnthropicLedger(options: LedgerOptions): Ledger {
  const state = { started: false, ended: false, toolCalls: 0, outputChars: 0, droppedFragments: 0 };
  const blocks = createBlocks(state, options.signature ?? 'relay-proxy-no-signature');
  const { append, toolStart, toolArgs } = blocks;
  const ledger: Ledger = {
    state,
    start() {
      if (state.started) return [];
      state.started = true;
      return [messageStart(options)];
    },
    text: (text) => append('text', text),
    thinking: (text) => append('thinking', text),
    toolStart,
    toolArgs,
    toolWhole(id, name, input) {
      if (!isLive(state)) return [];
      const key = `text:${id}`;
      const out = toolStart(key, id, name);
      out.push(...toolArgs(key, JSON.stringify(input)));
      blocks.close(out);
      return out;
    },
    ping() {
      return isLive(state) ? [{ type: 'ping' }] : [];
    },
    finish(stopReason, usage) {
      if (!isLive(state)) return [];
      const out: AnthropicEvent[] = [];
      blocks.end(out);
      state.ended = true;
      out.push(messageDelta(stopReason, usage, state, options.inputTokens), { type: 'message_stop' });
      return out;
    },
    fail(type, message) {
      if (state.ended) return [];
      const out = ledger.start();
      state.ended = true;
      out.push({ type: 'error', error: { type, message } });
      return out;
    },
  };
  return ledger;
}
