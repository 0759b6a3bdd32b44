import { createHash } from 'node:crypto';
import type { ProviderDescriptor } from '../providers.js';
import { isRecord, type Json, num, records, str } from './anthropic-types.js';
import { effortOf } from './reasoning-effort.js';
import { stripSchemaKeywords } from './tool-schema.js';

// Anthropic Messages request → OpenAI chat-completions request. Pure. Unknown block types never fail the
// request (they are skipped); tool calls and results without a partner are repaired, not sent as-is.

export type OpenAiMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | OpenAiPart[] }
  | { role: 'assistant'; content: string | null; reasoning_content?: string; tool_calls?: OpenAiToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export type OpenAiPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface ConversionTarget {
  provider: ProviderDescriptor;
  model: string;
  stream: boolean;
  /** Fields sent unless the request sets its own (the provider's defaults and the user's settings, e.g. `NIM`). */
  fields?: Readonly<Record<string, unknown>>;
  /** The part of `fields` the user set (the `NIM` block): a `reasoning_effort` there beats the CLI's effort. */
  userFields?: Readonly<Record<string, unknown>>;
  /**
   * Whether images go to the model (the default); false when the model has refused them (openai-path.ts):
   * each becomes IMAGE_OMITTED, so the request does not fail and the model knows something was there.
   */
  images?: boolean;
  /**
   * At most this many images per request (a deployment's limit, read from its 400): the latest ones go, each
   * earlier one becomes IMAGES_OVER_LIMIT.
   */
  maxImages?: number;
  /**
   * The largest `max_tokens` to send, in place of the provider's ceiling and the user's provider settings: the
   * tier's MODEL_MAX_OUTPUT_TOKENS, or what the model said it allows (openai-path.ts).
   */
  maxOutputTokens?: number | undefined;
  /** Converts the tools array; a memoising one (tools-memo.ts) keeps this work off the hot path. */
  convertTools?: (tools: unknown, provider: ProviderDescriptor) => readonly OpenAiTool[];
}

export interface Conversion {
  body: Record<string, unknown>;
  /** How many orphan tool calls / results were repaired (logged by the caller). */
  repairs: number;
  /** Images sent as image parts (0 when `images` is false). */
  images: number;
}

export const IMAGE_OMITTED = '[image omitted: the model cannot read images]';
export const IMAGES_OVER_LIMIT = '[earlier image omitted: the model takes only a few images per request]';

/** Tools the CLI sends only to keep deferred loading alive; a model must never see or call them. */
const HIDDEN_TOOLS = new Set(['DeferredToolPlaceholder']);

function textOfBlocks(value: unknown): string {
  if (typeof value === 'string') return value;
  return records(value)
    .map((block) => (block.type === 'text' ? (str(block.text) ?? '') : ''))
    .filter((text) => text !== '')
    .join('\n\n');
}

function imageUrl(block: Json): string | undefined {
  const source = isRecord(block.source) ? block.source : undefined;
  if (!source) return undefined;
  if (source.type === 'url') return str(source.url);
  const data = str(source.data);
  return data ? `data:${str(source.media_type) ?? 'image/png'};base64,${data}` : undefined;
}

/**
 * A tool_result's content as text for a `tool` message; images inside it are returned separately (`tool`
 * messages carry text only), or, when `images` is null, replaced by a note.
 */
function toolResultText(block: Json, images: OpenAiPart[] | null): string {
  const content = block.content;
  let text: string;
  if (typeof content === 'string') text = content;
  else {
    const parts: string[] = [];
    for (const item of records(content)) {
      if (item.type === 'text') parts.push(str(item.text) ?? '');
      else if (item.type === 'tool_reference') parts.push(`Tool loaded: ${str(item.tool_name) ?? 'unknown'}`);
      else if (item.type === 'image') {
        const url = imageUrl(item);
        if (images === null) parts.push(IMAGE_OMITTED);
        else if (url) {
          images.push({ type: 'image_url', image_url: { url } });
          parts.push('[image attached below]');
        }
      } else if (item.type === 'document') parts.push(textOfBlocks([item.source]));
    }
    text = parts.join('\n');
  }
  // Providers have no is_error flag: say it in the text so the model knows the tool failed.
  return block.is_error === true ? `Error: ${text || 'the tool failed'}` : text;
}

function userMessages(content: unknown, withImages: boolean): OpenAiMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: OpenAiMessage[] = [];
  const parts: OpenAiPart[] = [];
  const images: OpenAiPart[] = [];
  for (const block of records(content)) {
    if (block.type === 'tool_result') {
      tools.push({
        role: 'tool',
        tool_call_id: str(block.tool_use_id) ?? '',
        content: toolResultText(block, withImages ? images : null),
      });
    } else if (block.type === 'text') {
      const text = str(block.text);
      if (text) parts.push({ type: 'text', text });
    } else if (block.type === 'image') {
      const url = imageUrl(block);
      if (!withImages) parts.push({ type: 'text', text: IMAGE_OMITTED });
      else if (url) parts.push({ type: 'image_url', image_url: { url } });
    } else if (block.type === 'document' && isRecord(block.source) && block.source.type === 'text') {
      const text = str(block.source.data);
      if (text) parts.push({ type: 'text', text });
    }
  }
  // Tool messages must follow the assistant's calls directly; the user's own words come after them.
  const all = [...parts, ...images];
  if (all.length === 0) return tools;
  const onlyText = all.every((part) => part.type === 'text');
  const user: OpenAiMessage = {
    role: 'user',
    content: onlyText ? all.map((part) => (part.type === 'text' ? part.text : '')).join('\n\n') : all,
  };
  return [...tools, user];
}

function assistantMessage(content: unknown, provider: ProviderDescriptor): OpenAiMessage | undefined {
  const replayField = provider.replaysReasoningField;
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const thoughts: string[] = [];
  const calls: OpenAiToolCall[] = [];
  for (const block of records(content)) {
    if (block.type === 'text') texts.push(str(block.text) ?? '');
    else if (block.type === 'thinking') thoughts.push(str(block.thinking) ?? '');
    else if (block.type === 'tool_use') {
      calls.push({
        id: str(block.id) ?? '',
        type: 'function',
        function: { name: str(block.name) ?? '', arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // redacted_thinking and server-side blocks carry nothing another provider can use.
  }
  const reasoning = thoughts.filter((t) => t !== '').join('\n\n');
  let text = texts.filter((t) => t !== '').join('\n\n');
  if (reasoning && !replayField) text = `<think>\n${reasoning}\n</think>\n\n${text}`;
  if (text === '' && calls.length === 0 && !reasoning) return undefined;
  const message: OpenAiMessage = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? provider.toolCallOnlyContent : text,
  };
  if (reasoning && replayField) message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

/**
 * Every assistant tool call gets exactly one tool message right after it: missing results get a stand-in,
 * results with no call become plain user text (providers reject both kinds of orphan).
 */
function repairToolPairs(messages: OpenAiMessage[]): { messages: OpenAiMessage[]; repairs: number } {
  const out: OpenAiMessage[] = [];
  let repairs = 0;
  let pending: string[] = [];
  const flushPending = () => {
    for (const id of pending) {
      out.push({ role: 'tool', tool_call_id: id, content: '[no result: the tool call was interrupted]' });
      repairs++;
    }
    pending = [];
  };
  for (const message of messages) {
    if (message.role === 'tool') {
      const at = pending.indexOf(message.tool_call_id);
      if (at !== -1) {
        pending.splice(at, 1);
        out.push(message);
      } else {
        repairs++;
        out.push({ role: 'user', content: `[Result of an earlier tool call]\n${message.content}` });
      }
      continue;
    }
    flushPending();
    out.push(message);
    if (message.role === 'assistant' && message.tool_calls)
      pending = message.tool_calls.map((call) => call.id);
  }
  flushPending();
  return { messages: out, repairs };
}

/**
 * Mistral's models (whoever serves them: NIM, OpenRouter, a local server) refuse a tool-call id that is not
 * exactly nine letters or digits ("Tool call id was toolu_… but must be a-z, A-Z, 0-9, with a length of 9"), and
 * the ids they get back may come from the relay or from another provider. Such ids are mapped by a hash, so a
 * call has the same id in every later request without any state kept; ids already in the format stay.
 */
const NINE_CHAR_TOOL_IDS = /mistral|mixtral|codestral|devstral|magistral|ministral|pixtral/i;

function toolIdFormatOf(model: string): ((id: string) => string) | null {
  return NINE_CHAR_TOOL_IDS.test(model) ? nineCharToolId : null;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function nineCharToolId(id: string): string {
  if (/^[A-Za-z0-9]{9}$/.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  return Array.from(digest.subarray(0, 9), (byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
}

function withToolIds(message: OpenAiMessage, toolId: (id: string) => string): OpenAiMessage {
  if (message.role === 'tool') return { ...message, tool_call_id: toolId(message.tool_call_id) };
  if (message.role === 'assistant' && message.tool_calls) {
    return { ...message, tool_calls: message.tool_calls.map((call) => ({ ...call, id: toolId(call.id) })) };
  }
  return message;
}

function toolChoice(value: unknown): unknown {
  if (!isRecord(value)) return undefined;
  switch (value.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: str(value.name) ?? '' } };
    default:
      return undefined;
  }
}

/** Anthropic tool definitions → OpenAI functions, with the provider's rejected schema keywords removed. */
export function toOpenAiTools(tools: unknown, provider: ProviderDescriptor): OpenAiTool[] {
  return records(tools)
    .filter(
      (tool) => typeof tool.name === 'string' && !HIDDEN_TOOLS.has(tool.name) && tool.type !== 'custom_none',
    )
    .map((tool) => ({
      type: 'function',
      function: {
        name: str(tool.name) ?? '',
        description: str(tool.description) ?? '',
        parameters: stripSchemaKeywords(
          isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
          provider.schemaKeywordsToStrip,
        ),
      },
    }));
}

/** Keeps the last `limit` image parts (the ones the model most likely needs now); earlier ones become a note. */
function keepLatestImages(messages: OpenAiMessage[], limit: number): void {
  let kept = 0;
  for (let at = messages.length - 1; at >= 0; at--) {
    const message = messages[at];
    if (message?.role !== 'user' || typeof message.content === 'string') continue;
    const parts = [...message.content];
    for (let index = parts.length - 1; index >= 0; index--) {
      if (parts[index]?.type !== 'image_url') continue;
      if (kept < limit) kept++;
      else parts[index] = { type: 'text', text: IMAGES_OVER_LIMIT };
    }
    messages[at] = { role: 'user', content: parts };
  }
}

function countImages(messages: readonly OpenAiMessage[]): number {
  let count = 0;
  for (const message of messages) {
    if (message.role === 'user' && typeof message.content !== 'string')
      count += message.content.filter((part) => part.type === 'image_url').length;
  }
  return count;
}

export function toOpenAiRequest(request: Json, target: ConversionTarget): Conversion {
  const { provider } = target;
  const system: string[] = [];
  const top = textOfBlocks(request.system);
  if (top) system.push(top);
  const converted: OpenAiMessage[] = [];
  for (const message of records(request.messages)) {
    if (message.role === 'system') {
      // The CLI puts environment and listings in system-role messages, even last. Chat templates of most
      // open models accept a system message only first, so every one joins the leading system prompt.
      const text = textOfBlocks(message.content);
      if (text) system.push(text);
    } else if (message.role === 'assistant') {
      const assistant = assistantMessage(message.content, provider);
      if (assistant) converted.push(assistant);
    } else {
      converted.push(...userMessages(message.content, target.images !== false));
    }
  }
  const repaired = repairToolPairs(converted);
  const messages: OpenAiMessage[] = [];
  if (system.length > 0) messages.push({ role: 'system', content: system.join('\n\n') });
  const toolId = toolIdFormatOf(target.model);
  messages.push(
    ...(toolId === null ? repaired.messages : repaired.messages.map((m) => withToolIds(m, toolId))),
  );

  if (target.maxImages !== undefined) keepLatestImages(messages, target.maxImages);
  const body: Record<string, unknown> = { model: target.model, messages };
  const tools = (target.convertTools ?? toOpenAiTools)(request.tools, provider);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = toolChoice(request.tool_choice);
    if (choice !== undefined) body.tool_choice = choice;
  }
  const fields = target.fields ?? {};
  // A `max_tokens` in the user's settings moves the provider's ceiling; the request still asks within it.
  const ceiling = target.maxOutputTokens ?? num(fields.max_tokens) ?? provider.maxOutputTokens;
  const maxTokens = num(request.max_tokens);
  if (maxTokens !== undefined) body.max_tokens = Math.max(1, Math.min(maxTokens, ceiling));
  const temperature = num(request.temperature);
  if (temperature !== undefined) body.temperature = temperature;
  const topP = num(request.top_p);
  if (topP !== undefined) body.top_p = topP;
  const stop = Array.isArray(request.stop_sequences)
    ? request.stop_sequences.filter((s) => typeof s === 'string')
    : [];
  if (stop.length > 0) body.stop = stop.slice(0, 4);
  if (isRecord(request.thinking)) {
    const effort = target.userFields?.reasoning_effort === undefined ? effortOf(request) : undefined;
    Object.assign(body, provider.thinkingFields(request.thinking.type !== 'disabled', effort));
  }
  for (const [field, value] of Object.entries(fields)) if (!(field in body)) body[field] = value;
  body.stream = target.stream;
  if (target.stream) body.stream_options = { include_usage: true };
  return { body, repairs: repaired.repairs, images: countImages(messages) };
}
