import { isRecord, num, records, str } from './anthropic-types.js';

// One OpenAI chat-completion chunk (or a whole non-streaming completion) parsed from unknown JSON into the
// few fields the translator reads. Unknown shapes give an empty delta, never an exception.

export interface ToolCallDelta {
  /** The call's `index`, or its position in this chunk when the provider sent none (`indexed` false). */
  index: number;
  indexed: boolean;
  id?: string;
  name?: string;
  args?: string;
}

export interface UpstreamDelta {
  reasoning: string;
  content: string;
  toolCalls: ToolCallDelta[];
  finishReason?: string;
  /** `cached`: the part of `prompt` served from the provider's prompt cache. */
  usage?: { prompt?: number; completion?: number; cached?: number };
}

function reasoningOf(source: Record<string, unknown>): string {
  // Providers disagree: `reasoning_content` (DeepSeek, NIM, vLLM), `reasoning` (OpenRouter, Ollama),
  // `reasoning_details[].text` (OpenRouter). Take the first that is present, so nothing is shown twice.
  const direct = str(source.reasoning_content) ?? str(source.reasoning);
  if (direct) return direct;
  return records(source.reasoning_details)
    .map((detail) => str(detail.text) ?? str(detail.summary) ?? '')
    .join('');
}

function toolCallsOf(value: unknown): ToolCallDelta[] {
  return records(value).map((call, position) => {
    const fn = isRecord(call.function) ? call.function : {};
    const index = num(call.index);
    const delta: ToolCallDelta = { index: index ?? position, indexed: index !== undefined };
    const id = str(call.id);
    const name = str(fn.name);
    const args = fn.arguments;
    if (id) delta.id = id;
    if (name) delta.name = name;
    if (typeof args === 'string') delta.args = args;
    else if (isRecord(args)) delta.args = JSON.stringify(args);
    return delta;
  });
}

function usageOf(value: unknown): UpstreamDelta['usage'] {
  if (!isRecord(value)) return undefined;
  const usage: NonNullable<UpstreamDelta['usage']> = {};
  const prompt = num(value.prompt_tokens);
  const completion = num(value.completion_tokens);
  if (prompt !== undefined) usage.prompt = prompt;
  if (completion !== undefined) usage.completion = completion;
  // OpenAI and most servers: prompt_tokens_details.cached_tokens; DeepSeek: prompt_cache_hit_tokens.
  const details = isRecord(value.prompt_tokens_details) ? value.prompt_tokens_details : undefined;
  const cached = num(details?.cached_tokens) ?? num(value.prompt_cache_hit_tokens);
  if (cached !== undefined) usage.cached = cached;
  return usage;
}

/** Parses a streamed `chat.completion.chunk` (reads `choices[0].delta`) or a completion (`.message`). */
export function parseUpstreamChunk(value: unknown): UpstreamDelta {
  const out: UpstreamDelta = { reasoning: '', content: '', toolCalls: [] };
  if (!isRecord(value)) return out;
  const usage = usageOf(value.usage);
  if (usage) out.usage = usage;
  const choice = records(value.choices)[0];
  if (!choice) return out;
  const finish = str(choice.finish_reason);
  if (finish) out.finishReason = finish;
  const delta = isRecord(choice.delta) ? choice.delta : isRecord(choice.message) ? choice.message : undefined;
  if (!delta) return out;
  out.reasoning = reasoningOf(delta);
  const content = delta.content;
  if (typeof content === 'string') out.content = content;
  else
    out.content = records(content)
      .map((part) => str(part.text) ?? '')
      .join('');
  out.toolCalls = toolCallsOf(delta.tool_calls);
  return out;
}

/** Upstream error body → its message, for OpenAI (`{error:{message}}`) and other common shapes. */
export function upstreamErrorMessage(value: unknown): string | undefined {
  if (!isRecord(value))
    return typeof value === 'string' && value.trim() ? value.trim().slice(0, 500) : undefined;
  const error = value.error;
  if (isRecord(error)) return str(error.message) ?? str(error.type);
  return str(error) ?? str(value.message) ?? str(value.detail);
}
