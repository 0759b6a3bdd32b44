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

// POST /v1/chat/completions. Claude Code acts with its own tools, so a client's function tools are never called:
// they are accepted and ignored, and a `tool_choice` that forces one is refused, naming it. Sampling fields
// (temperature, top_p …) are accepted and ignored. Narration of earlier turns goes to `reasoning_content`.

function parse(body: unknown): Parsed {
  if (!isRecord(body)) return { ok: false, message: 'the body must be a JSON object' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { ok: false, message: '`messages` must be a non-empty array' };
  }
  const forced = isRecord(body.tool_choice) ? body.tool_choice : undefined;
  if (forced !== undefined || body.tool_choice === 'required') {
    const name = isRecord(forced?.function) ? str(forced.function.name) : undefined;
    return {
      ok: false,
      message: `tool_choice ${name ? `forcing "${name}"` : '"required"'} cannot be honoured: Claude Code acts with its own tools, not the client's`,
    };
  }
  const system: string[] = [];
  const turns: Turn[] = [];
  for (const [index, message] of body.messages.entries()) {
    if (!isRecord(message)) return { ok: false, message: `messages[${index}] must be an object` };
    const role = message.role;
    const content = contentOf(message.content);
    if (!content.ok) return { ok: false, message: `messages[${index}]: ${content.reason}` };
    const { text, images } = content;
    if ((role === 'system' || role === 'developer') && images.length > 0)
      return { ok: false, message: `messages[${index}]: a ${role} message takes text only` };
    if (role === 'system' || role === 'developer') system.push(text);
    else if (role === 'user' || role === 'assistant') turns.push({ role, text, images });
    else if (role === 'tool') turns.push({ role: 'user', text: `[tool result] ${text}` });
    else
      return {
        ok: false,
        message: `messages[${index}].role "${String(role)}" is not one of system, user, assistant`,
      };
  }
  if (turns.at(-1)?.role !== 'user') return { ok: false, message: 'the last message must be from the user' };
  const options = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    ok: true,
    request: {
      conversation: { system: system.join('\n\n'), turns },
      model: str(body.model) ?? 'claude-sonnet',
      stream: body.stream === true,
      includeUsage: options.include_usage === true,
    },
  };
}

function usageOf(usage: RunUsage) {
  const prompt = usage.inputTokens + usage.cacheReadTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
  };
}

/** A run cut at its turn limit is an answer cut short: `length`, as for a token limit. */
const finishReason = (stopReason: StopReason): string => (stopReason === 'max_turns' ? 'length' : 'stop');

function answer(result: Answer): unknown {
  return {
    id: result.id,
    object: 'chat.completion',
    created: result.createdAt,
    model: result.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: result.text,
          ...(result.narration ? { reasoning_content: result.narration } : {}),
        },
        finish_reason: finishReason(result.stopReason),
      },
    ],
    usage: usageOf(result.usage),
  };
}

function stream(
  res: ServerResponse,
  meta: { id: string; model: string; includeUsage: boolean; createdAt: number },
): AnswerStream {
  const created = meta.createdAt;
  const chunk = (delta: object, finish: string | null = null, extra: object = {}): void => {
    res.write(
      `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created, model: meta.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
    );
  };
  res.writeHead(200, SSE_HEADERS);
  chunk({ role: 'assistant', content: '' });
  return {
    narration: (text) => chunk({ reasoning_content: text }),
    text: (text) => chunk({ content: text }),
    keepAlive: () => void res.write(': keep-alive\n\n'),
    done(usage, stopReason) {
      chunk({}, finishReason(stopReason));
      if (meta.includeUsage) {
        res.write(
          `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created, model: meta.model, choices: [], usage: usageOf(usage) })}\n\n`,
        );
      }
      res.end('data: [DONE]\n\n');
    },
    fail(status, message) {
      res.write(`data: ${JSON.stringify(error(status, message))}\n\n`);
      res.end('data: [DONE]\n\n');
    },
  };
}

function error(status: number, message: string): unknown {
  return { error: { message, type: openAiErrorType(status), code: status } };
}

export const openAiChat: Api = { idPrefix: 'chatcmpl', parse, answer, stream, error };
