import type { AnthropicErrorType, AnthropicEvent, StopReason } from './anthropic-types.js';
import type { UpstreamDelta } from './openai-chunk.js';
import { createAnthropicLedger } from './stream-ledger.js';
import { createTextToolParser, type TextToolResult } from './text-tool-parser.js';
import { createThinkParser, type ThinkPiece } from './think-parser.js';

// OpenAI deltas → Anthropic events: reasoning fields and <think> text become thinking, printed tool calls
// become tool_use blocks, native tool-call fragments stream as input_json_delta. Pure; ids are injected.

export interface TranslatorOptions {
  messageId: string;
  model: string;
  inputTokens: number;
  newToolId(): string;
}

export interface StreamTranslator {
  start(): AnthropicEvent[];
  push(delta: UpstreamDelta): AnthropicEvent[];
  /** The upstream ended normally. */
  end(): AnthropicEvent[];
  fail(type: AnthropicErrorType, message: string): AnthropicEvent[];
  ping(): AnthropicEvent[];
  readonly ended: boolean;
  readonly usage: { input?: number; output?: number };
}

function toStopReason(finish: string | undefined): StopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'stop_sequence':
      return 'stop_sequence';
    default:
      return 'end_turn';
  }
}

interface NativeTool {
  key: string;
  id: string | undefined;
  name: string;
  pendingArgs: string;
  started: boolean;
}

export function createStreamTranslator(options: TranslatorOptions): StreamTranslator {
  const ledger = createAnthropicLedger(options);
  const think = createThinkParser();
  const textTools = createTextToolParser();
  const native = new Map<number, NativeTool>();
  const usage: { input?: number; output?: number } = {};
  let finish: string | undefined;

  function text(parsed: TextToolResult, out: AnthropicEvent[]): void {
    out.push(...ledger.text(parsed.text));
    for (const tool of parsed.tools)
      out.push(...ledger.toolWhole(options.newToolId(), tool.name, tool.input));
  }

  function pieces(parts: ThinkPiece[], out: AnthropicEvent[]): void {
    for (const piece of parts) {
      if (piece.kind === 'thinking') out.push(...ledger.thinking(piece.text));
      else text(textTools.feed(piece.text), out);
    }
  }

  function startTool(tool: NativeTool, out: AnthropicEvent[]): void {
    tool.started = true;
    out.push(...ledger.toolStart(tool.key, tool.id ?? options.newToolId(), tool.name || 'unknown_tool'));
    out.push(...ledger.toolArgs(tool.key, tool.pendingArgs));
    tool.pendingArgs = '';
  }

  return {
    get ended() {
      return ledger.state.ended;
    },
    usage,
    start: () => ledger.start(),
    ping: () => ledger.ping(),
    push(delta) {
      const out: AnthropicEvent[] = [];
      if (delta.usage?.prompt !== undefined) usage.input = delta.usage.prompt;
      if (delta.usage?.completion !== undefined) usage.output = delta.usage.completion;
      if (delta.finishReason) finish = delta.finishReason;
      if (delta.reasoning) out.push(...ledger.thinking(delta.reasoning));
      if (delta.content) pieces(think.feed(delta.content), out);
      for (const call of delta.toolCalls) {
        let tool = native.get(call.index);
        if (!tool) {
          tool = { key: `native:${call.index}`, id: call.id, name: '', pendingArgs: '', started: false };
          native.set(call.index, tool);
        }
        if (call.id && !tool.id) tool.id = call.id;
        // Some servers resend the whole name on every delta, others stream it in pieces.
        if (call.name && !tool.started && !tool.name.endsWith(call.name)) tool.name += call.name;
        if (call.args) {
          if (tool.started) out.push(...ledger.toolArgs(tool.key, call.args));
          else tool.pendingArgs += call.args;
        }
        if (!tool.started && tool.name) startTool(tool, out);
      }
      return out;
    },
    end() {
      const out: AnthropicEvent[] = [];
      pieces(think.flush(), out);
      text(textTools.flush(), out);
      for (const tool of native.values()) if (!tool.started) startTool(tool, out);
      const final: { input_tokens?: number; output_tokens?: number } = {};
      if (usage.input !== undefined) final.input_tokens = usage.input;
      if (usage.output !== undefined) final.output_tokens = usage.output;
      out.push(...ledger.finish(toStopReason(finish), final));
      return out;
    },
    fail: (type, message) => ledger.fail(type, message),
  };
}
