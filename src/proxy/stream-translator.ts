import type { AnthropicErrorType, AnthropicEvent, StopReason } from './anthropic-types.js';
import { createControlTokenFilter } from './control-tokens.js';
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
  /** Arguments received so far: all of them while held, the live tool's too (to tell when its JSON is whole). */
  args: string;
  started: boolean;
  held: boolean;
}

// The Anthropic stream has one block open at a time, while providers may interleave several calls' argument
// fragments (0, 1, 0, 1 …). So one native call streams live; a call that opens while the live one's JSON is still
// unfinished is held, whole, and sent after it: the CLI only runs tools once the message ends, so holding costs
// no time, and no fragment is ever dropped. Text or reasoning arriving mid-call waits behind the call likewise.
// Calls sent one after another (the usual shape) still stream live, each closed when the next opens.

export function createStreamTranslator(options: TranslatorOptions): StreamTranslator {
  const ledger = createAnthropicLedger(options);
  const think = createThinkParser();
  const textTokens = createControlTokenFilter();
  const reasoningTokens = createControlTokenFilter();
  const textTools = createTextToolParser();
  /** The latest call under each upstream index, and every call in the order it opened. */
  const native = new Map<number, NativeTool>();
  const calls: NativeTool[] = [];
  const usage: { input?: number; output?: number } = {};
  let finish: string | undefined;
  let live: NativeTool | undefined;
  const held: NativeTool[] = [];
  const deferred: Array<{ reasoning: string; content: string }> = [];

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

  function content(reasoning: string, body: string, out: AnthropicEvent[]): void {
    if (reasoning) out.push(...ledger.thinking(reasoningTokens.feed(reasoning)));
    if (body) pieces(think.feed(textTokens.feed(body)), out);
  }

  function startTool(tool: NativeTool, out: AnthropicEvent[]): void {
    tool.started = true;
    out.push(...ledger.toolStart(tool.key, tool.id ?? options.newToolId(), tool.name || 'unknown_tool'));
    out.push(...ledger.toolArgs(tool.key, tool.args));
  }

  /** Whether the live call's arguments are whole, so what comes next may close its block. */
  function liveIsWhole(): boolean {
    if (live === undefined) return true;
    try {
      JSON.parse(live.args);
      return true;
    } catch {
      return false;
    }
  }

  /** Text and reasoning held behind an unfinished call go out once it is whole (they close its block). */
  function releaseDeferred(out: AnthropicEvent[]): void {
    live = undefined;
    for (const part of deferred.splice(0)) content(part.reasoning, part.content, out);
  }

  function toolDelta(call: UpstreamDelta['toolCalls'][number], out: AnthropicEvent[]): void {
    let tool = native.get(call.index);
    // Providers that send no index number every call 0: a new id under a used index is a new call.
    if (!tool || (call.id && tool.id && call.id !== tool.id)) {
      tool = { key: `native:${calls.length}`, id: call.id, name: '', args: '', started: false, held: false };
      native.set(call.index, tool);
      calls.push(tool);
    }
    if (call.id && !tool.id) tool.id = call.id;
    // Some servers resend the whole name on every delta, others stream it in pieces.
    if (call.name && !tool.started && !tool.name.endsWith(call.name)) tool.name += call.name;
    if (call.args) {
      if (tool === live) {
        live.args += call.args;
        out.push(...ledger.toolArgs(tool.key, call.args));
      } else if (tool.started) {
        out.push(...ledger.toolArgs(tool.key, call.args)); // its block has closed: the ledger counts it dropped
      } else {
        tool.args += call.args;
      }
    }
    if (tool.started || tool.held || !tool.name) return;
    if (held.length === 0 && liveIsWhole()) {
      if (deferred.length > 0) releaseDeferred(out);
      live = tool;
      startTool(tool, out);
    } else {
      tool.held = true;
      held.push(tool);
    }
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
      if (delta.reasoning || delta.content) {
        if (live !== undefined && !liveIsWhole()) {
          deferred.push({ reasoning: delta.reasoning, content: delta.content });
        } else {
          releaseDeferred(out);
          content(delta.reasoning, delta.content, out);
        }
      }
      for (const call of delta.toolCalls) toolDelta(call, out);
      return out;
    },
    end() {
      const out: AnthropicEvent[] = [];
      releaseDeferred(out);
      out.push(...ledger.thinking(reasoningTokens.flush()));
      pieces(think.feed(textTokens.flush()), out);
      pieces(think.flush(), out);
      text(textTools.flush(), out);
      for (const tool of held) startTool(tool, out);
      for (const tool of calls) if (!tool.started) startTool(tool, out);
      const final: { input_tokens?: number; output_tokens?: number } = {};
      if (usage.input !== undefined) final.input_tokens = usage.input;
      if (usage.output !== undefined) final.output_tokens = usage.output;
      out.push(...ledger.finish(toStopReason(finish), final));
      return out;
    },
    fail: (type, message) => ledger.fail(type, message),
  };
}
