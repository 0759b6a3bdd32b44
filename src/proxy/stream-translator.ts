import type { AnthropicErrorType, AnthropicEvent, StopReason, Usage } from './anthropic-types.js';
import { createControlTokenFilter } from './control-tokens.js';
import { createNativeToolCalls } from './native-tool-calls.js';
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
  /** Native tool calls whose arguments were not a JSON object, once the stream has ended. */
  readonly malformedToolCalls: number;
  readonly usage: { input?: number; output?: number; cached?: number };
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

// Text or reasoning that arrives in the middle of a native call waits behind it (native-tool-calls.ts says when),
// so the call's block is never closed before its arguments are whole.

export function createStreamTranslator(options: TranslatorOptions): StreamTranslator {
  const ledger = createAnthropicLedger(options);
  const think = createThinkParser();
  const textTokens = createControlTokenFilter();
  const reasoningTokens = createControlTokenFilter();
  const textTools = createTextToolParser();
  const tools = createNativeToolCalls(ledger, options.newToolId);
  const usage: { input?: number; output?: number; cached?: number } = {};
  let finish: string | undefined;
  const deferred: Array<{ reasoning: string; content: string }> = [];

  // Control tokens are stripped last, from prose and thinking only: printed tool calls have been taken out by
  // then, so a file a model writes keeps every character. A tail one filter holds goes out before the other
  // channel speaks, so nothing changes places.
  function prose(text: string, out: AnthropicEvent[]): void {
    const held = reasoningTokens.flush();
    if (held) out.push(...ledger.thinking(held));
    out.push(...ledger.text(textTokens.feed(text)));
  }

  function thinking(text: string, out: AnthropicEvent[]): void {
    const held = textTokens.flush();
    if (held) out.push(...ledger.text(held));
    out.push(...ledger.thinking(reasoningTokens.feed(text)));
  }

  function text(parsed: TextToolResult, out: AnthropicEvent[]): void {
    if (parsed.text) prose(parsed.text, out);
    for (const tool of parsed.tools)
      out.push(...ledger.toolWhole(options.newToolId(), tool.name, tool.input));
  }

  function pieces(parts: ThinkPiece[], out: AnthropicEvent[]): void {
    for (const piece of parts) {
      if (piece.kind === 'thinking') thinking(piece.text, out);
      else text(textTools.feed(piece.text), out);
    }
  }

  function content(reasoning: string, body: string, out: AnthropicEvent[]): void {
    if (reasoning) thinking(reasoning, out);
    if (body) pieces(think.feed(body), out);
  }

  /** What waited behind an unfinished call goes out (it closes that call's block). */
  function releaseDeferred(out: AnthropicEvent[]): void {
    tools.releaseLive();
    if (deferred.length === 0) return; // the usual case, on every text chunk: allocate nothing
    for (const part of deferred.splice(0)) content(part.reasoning, part.content, out);
  }

  return {
    get ended() {
      return ledger.state.ended;
    },
    get malformedToolCalls() {
      return tools.malformed();
    },
    usage,
    start: () => ledger.start(),
    ping: () => ledger.ping(),
    push(delta) {
      const out: AnthropicEvent[] = [];
      if (delta.usage?.prompt !== undefined) usage.input = delta.usage.prompt;
      if (delta.usage?.completion !== undefined) usage.output = delta.usage.completion;
      if (delta.usage?.cached !== undefined) usage.cached = delta.usage.cached;
      if (delta.finishReason) finish = delta.finishReason;
      if (delta.reasoning || delta.content) {
        if (tools.midCall()) {
          deferred.push({ reasoning: delta.reasoning, content: delta.content });
        } else {
          releaseDeferred(out);
          content(delta.reasoning, delta.content, out);
        }
      }
      for (const call of delta.toolCalls) tools.push(call, out, releaseDeferred);
      return out;
    },
    end() {
      const out: AnthropicEvent[] = [];
      releaseDeferred(out);
      pieces(think.flush(), out);
      text(textTools.flush(), out);
      out.push(...ledger.thinking(reasoningTokens.flush()));
      out.push(...ledger.text(textTokens.flush()));
      tools.finish(out);
      const final: Partial<Usage> = {};
      // Anthropic counts cached input apart: input_tokens is what the cache did not serve.
      const cached = Math.min(usage.cached ?? 0, usage.input ?? 0);
      if (usage.input !== undefined) final.input_tokens = usage.input - cached;
      if (usage.output !== undefined) final.output_tokens = usage.output;
      if (usage.cached !== undefined) final.cache_read_input_tokens = cached;
      out.push(...ledger.finish(toStopReason(finish), final));
      return out;
    },
    fail: (type, message) => ledger.fail(type, message),
  };
}
