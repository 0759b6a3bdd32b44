import type { ServerResponse } from 'node:http';
import { isRecord, num, str } from '../common/index.js';
import { type Answer, type AnswerStream, type Api, contentOf, type Parsed, SSE_HEADERS } from './api.js';
import type { Turn } from './conversation.js';
import type { RunUsage, StopReason } from './runner.js';

// POST /v1/messages, the Anthropic Messages API: any Anthropic SDK pointed here (ANTHROPIC_BASE_URL) works
// unchanged. Narration of earlier turns streams as a thinking block before the answer's text block; the
// client's tools are not called (Claude Code acts with its own), sampling fields are accepted and ignored.

const NO_SIGNATURE = 'claude-relay-gateway';

function parse(body: unknown): Parsed {
  if (!isRecord(body)) return { ok: false, message: 'the body must be a JSON object' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { ok: false, message: '`messages` must be a non-empty array' };
  }
  if (isRecord(body.tool_choice) && (body.tool_choice.type === 'tool' || body.tool_choice.type === 'any')) {
    const name = str(body.tool_choice.name);
    return {
      ok: false,
      message: `tool_choice ${name ? `forcing "${name}"` : '"any"'} cannot be honoured: Claude Code acts with its own tools, not the client's`,
    };
  }
  const system = contentOf(body.system ?? '');
  if (!system.ok || system.images.length > 0)
    return { ok: false, message: 'system: only text blocks are supported' };
  const turns: Turn[] = [];
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) {
      return { ok: false, message: `messages[${index}] must have role user or assistant` };
    }
    // Clients send our answers back whole: the thinking block (narration) is ours, not part of the turn.
    const content = Array.isArray(message.content)
      ? message.content.filter(
          (block) => !(isRecord(block) && (block.type === 'thinking' || block.type === 'redacted_thinking')),
        )
      : message.content;
    const parsed = contentOf(content);
    if (!parsed.ok) return { ok: false, message: `messages[${index}]: ${parsed.reason}` };
    turns.push({ role: message.role, text: parsed.text, images: parsed.images });
  }
  if (turns.at(-1)?.role !== 'user') return { ok: false, message: 'the last message must be from the user' };
  const maxTurns = num(isRecord(body.metadata) ? body.metadata.max_turns : undefined);
  return {
    ok: true,
    request: {
      conversation: { system: system.text, turns },
      model: str(body.model) ?? 'claude-sonnet',
      stream: body.stream === true,
      includeUsage: false,
      ...(maxTurns === undefined ? {} : { maxTurns }),
    },
  };
}

function usageOf(usage: RunUsage) {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
  };
}

/** A run cut at its turn limit is an answer cut short by a limit: `max_tokens`, the reason clients handle. */
const stopReasonOf = (stopReason: StopReason): string =>
  stopReason === 'max_turns' ? 'max_tokens' : 'end_turn';

function answer(result: Answer): unknown {
  return {
    id: result.id,
    type: 'message',
    role: 'assistant',
    model: result.model,
    content: [
      ...(result.narration
        ? [{ type: 'thinking', thinking: result.narration, signature: NO_SIGNATURE }]
        : []),
      { type: 'text', text: result.text },
    ],
    stop_reason: stopReasonOf(result.stopReason),
    stop_sequence: null,
    usage: usageOf(result.usage),
  };
}

function stream(res: ServerResponse, meta: { id: string; model: string }): AnswerStream {
  const send = (type: string, data: object): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  let index = -1;
  let open: 'thinking' | 'text' | null = null;
  const close = (): void => {
    if (open === 'thinking')
      send('content_block_delta', { index, delta: { type: 'signature_delta', signature: NO_SIGNATURE } });
    if (open !== null) send('content_block_stop', { index });
    open = null;
  };
  const ensure = (kind: 'thinking' | 'text'): void => {
    if (open === kind) return;
    close();
    index++;
    open = kind;
    send('content_block_start', {
      index,
      content_block:
        kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
    });
  };
  res.writeHead(200, SSE_HEADERS);
  send('message_start', {
    message: {
      id: meta.id,
      type: 'message',
      role: 'assistant',
      model: meta.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    },
  });
  return {
    narration(text) {
      ensure('thinking');
      send('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: text } });
    },
    text(text) {
      ensure('text');
      send('content_block_delta', { index, delta: { type: 'text_delta', text } });
    },
    keepAlive: () => send('ping', {}),
    done(usage, stopReason) {
      if (index === -1) ensure('text'); // an empty answer still has one (empty) block
      close();
      send('message_delta', {
        delta: { stop_reason: stopReasonOf(stopReason), stop_sequence: null },
        usage: usageOf(usage),
      });
      send('message_stop', {});
      res.end();
    },
    fail(status, message) {
      close();
      send('error', { error: errorBody(status, message) });
      res.end();
    },
  };
}

function errorBody(status: number, message: string) {
  const type =
    status === 401
      ? 'authentication_error'
      : status === 403
        ? 'permission_error'
        : status === 400
          ? 'invalid_request_error'
          : status === 413
            ? 'request_too_large'
            : status === 404
              ? 'not_found_error'
              : status === 503 || status === 408
                ? 'overloaded_error'
                : 'api_error';
  return { type, message };
}

function error(status: number, message: string): unknown {
  return { type: 'error', error: errorBody(status, message) };
}

export const anthropicMessages: Api = { idPrefix: 'msg', parse, answer, stream, error };
