import type { ServerResponse } from 'node:http';
import { isRecord, str } from '../common/index.js';
import {
  type Answer,
  type AnswerStream,
  type Api,
  contentOf,
  openAiErrorType,
  type Parsed,
  SSE_HEADERS,
} from './api.js';
import type { Turn } from './conversation.js';
import type { RunUsage, StopReason } from './runner.js';

// POST /v1/responses, the OpenAI Responses API: `input` as a string or as message items, `instructions` as the
// system prompt, `previous_response_id` to continue (fork) the conversation of an earlier answer. Narration of
// tool-using turns is a reasoning item (summary text) before the message. Client tools are not called.

function parse(body: unknown): Parsed {
  if (!isRecord(body)) return { ok: false, message: 'the body must be a JSON object' };
  const turns: Turn[] = [];
  const system: string[] = [];
  const instructions = str(body.instructions);
  if (instructions) system.push(instructions);
  if (typeof body.input === 'string') turns.push({ role: 'user', text: body.input });
  else if (Array.isArray(body.input)) {
    for (const [index, item] of body.input.entries()) {
      // Clients that keep the history themselves send a previous answer's `output` back whole: its reasoning
      // item is the narration the relay wrote, not something to tell the model again.
      if (isRecord(item) && item.type === 'reasoning') continue;
      if (!isRecord(item) || (item.type !== undefined && item.type !== 'message')) {
        return { ok: false, message: `input[${index}]: only message items are supported` };
      }
      const content = contentOf(item.content);
      if (!content.ok) return { ok: false, message: `input[${index}]: ${content.reason}` };
      const { text, images } = content;
      if ((item.role === 'system' || item.role === 'developer') && images.length > 0)
        return { ok: false, message: `input[${index}]: a ${item.role} message takes text only` };
      if (item.role === 'system' || item.role === 'developer') system.push(text);
      else if (item.role === 'user' || item.role === 'assistant')
        turns.push({ role: item.role, text, images });
      else
        return {
          ok: false,
          message: `input[${index}].role "${String(item.role)}" is not one of system, user, assistant`,
        };
    }
  } else return { ok: false, message: '`input` must be a string or an array of messages' };
  if (turns.at(-1)?.role !== 'user')
    return { ok: false, message: 'the last input message must be from the user' };
  if (isRecord(body.tool_choice) || body.tool_choice === 'required') {
    return {
      ok: false,
      message: 'a tool_choice that forces a tool cannot be honoured: Claude Code acts with its own tools',
    };
  }
  const previous = str(body.previous_response_id);
  return {
    ok: true,
    request: {
      conversation: { system: system.join('\n\n'), turns },
      model: str(body.model) ?? 'claude-sonnet',
      stream: body.stream === true,
      includeUsage: false,
      ...(previous ? { previousResponseId: previous } : {}),
      store: body.store !== false,
    },
  };
}

function usageOf(usage: RunUsage) {
  const input = usage.inputTokens + usage.cacheReadTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + usage.outputTokens,
  };
}

function reasoningItem(id: string, text: string) {
  return { type: 'reasoning', id: `rs_${id}`, summary: text ? [{ type: 'summary_text', text }] : [] };
}

function messageItem(id: string, text: string, status: 'in_progress' | 'completed' | 'incomplete') {
  return {
    type: 'message',
    id: `msg_${id}`,
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [] }] : [],
  };
}

/** A run cut at its turn limit is incomplete, for the reason clients know for an answer cut by a limit. */
function statusOf(stopReason: StopReason) {
  return stopReason === 'max_turns'
    ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    : { status: 'completed', incomplete_details: null };
}

function responseObject(
  meta: { id: string; model: string; createdAt: number },
  state: { status: string; incomplete_details: object | null },
  output: object[],
  usage: object | null,
) {
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    model: meta.model,
    output,
    usage,
    error: null,
    ...state,
    instructions: null,
    metadata: {},
    parallel_tool_calls: false,
    temperature: null,
    tool_choice: 'auto',
    tools: [],
    top_p: null,
  };
}

function answer(result: Answer): unknown {
  const key = result.id.replace(/^resp_/, '');
  const output = [
    ...(result.narration ? [reasoningItem(key, result.narration)] : []),
    messageItem(key, result.text, result.stopReason === 'max_turns' ? 'incomplete' : 'completed'),
  ];
  const meta = result;
  const state = statusOf(result.stopReason);
  return { ...responseObject(meta, state, output, usageOf(result.usage)), output_text: result.text };
}

const IN_PROGRESS = { status: 'in_progress', incomplete_details: null };

function stream(res: ServerResponse, meta: { id: string; model: string; createdAt: number }): AnswerStream {
  const key = meta.id.replace(/^resp_/, '');
  const reasoningId = `rs_${key}`;
  let sequence = 0;
  const send = (type: string, data: object): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  };
  const output: object[] = [];
  let narration = '';
  let reasoningOpen = false;
  let messageIndex = -1;
  let text = '';
  const closeReasoning = (): void => {
    if (!reasoningOpen) return;
    reasoningOpen = false;
    const item = reasoningItem(key, narration);
    const at = { item_id: reasoningId, output_index: output.length - 1, summary_index: 0 };
    send('response.reasoning_summary_text.done', { ...at, text: narration });
    send('response.reasoning_summary_part.done', { ...at, part: { type: 'summary_text', text: narration } });
    output[output.length - 1] = item;
    send('response.output_item.done', { output_index: output.length - 1, item });
  };
  const openMessage = (): void => {
    if (messageIndex !== -1) return;
    closeReasoning();
    messageIndex = output.length;
    const item = messageItem(key, '', 'in_progress');
    output.push(item);
    send('response.output_item.added', { output_index: messageIndex, item });
    send('response.content_part.added', {
      item_id: `msg_${key}`,
      output_index: messageIndex,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
  };
  res.writeHead(200, SSE_HEADERS);
  send('response.created', { response: responseObject(meta, IN_PROGRESS, [], null) });
  send('response.in_progress', { response: responseObject(meta, IN_PROGRESS, [], null) });
  return {
    narration(piece) {
      if (messageIndex !== -1) return; // after the answer began, narration has no place left
      if (!reasoningOpen) {
        reasoningOpen = true;
        const item = reasoningItem(key, '');
        output.push(item);
        send('response.output_item.added', { output_index: output.length - 1, item });
        send('response.reasoning_summary_part.added', {
          item_id: reasoningId,
          output_index: output.length - 1,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        });
      }
      const at = { item_id: reasoningId, output_index: output.length - 1, summary_index: 0 };
      const delta = narration ? `\n\n${piece}` : piece;
      narration += delta;
      send('response.reasoning_summary_text.delta', { ...at, delta });
    },
    text(piece) {
      openMessage();
      text += piece;
      send('response.output_text.delta', {
        item_id: `msg_${key}`,
        output_index: messageIndex,
        content_index: 0,
        delta: piece,
        logprobs: [],
      });
    },
    keepAlive: () => void res.write(': keep-alive\n\n'),
    done(usage, stopReason) {
      openMessage();
      const part = { type: 'output_text', text, annotations: [] };
      const common = { item_id: `msg_${key}`, output_index: messageIndex, content_index: 0 };
      send('response.output_text.done', { ...common, text, logprobs: [] });
      send('response.content_part.done', { ...common, part });
      const item = messageItem(key, text, stopReason === 'max_turns' ? 'incomplete' : 'completed');
      output[messageIndex] = item;
      send('response.output_item.done', { output_index: messageIndex, item });
      const state = statusOf(stopReason);
      const response = responseObject(meta, state, output, usageOf(usage));
      send(stopReason === 'max_turns' ? 'response.incomplete' : 'response.completed', { response });
      res.end();
    },
    fail(status, message) {
      send('error', { code: String(status), message, param: null });
      res.end();
    },
  };
}

function error(status: number, message: string): unknown {
  const type = openAiErrorType(status);
  return { error: { message, type, param: null, code: null } };
}

export const openAiResponses: Api = { idPrefix: 'resp', parse, answer, stream, error };
