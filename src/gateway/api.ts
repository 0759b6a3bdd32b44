import type { ServerResponse } from 'node:http';
import type { Conversation } from './conversation.js';
import type { RunUsage, StopReason } from './runner.js';

// What every API the gateway speaks provides: reading a request, answering whole, answering as a stream, and
// saying what went wrong, each in that API's own shape.

export interface ApiRequest {
  conversation: Conversation;
  /** The model the client asked for (echoed back; its tier picks the CLI's model). */
  model: string;
  stream: boolean;
  maxTurns?: number;
  /** OpenAI `stream_options.include_usage`: a last chunk with the usage. */
  includeUsage: boolean;
  /** Responses API: the answer whose conversation this continues (a fork), instead of the history. */
  previousResponseId?: string;
  /** Responses API `store` (default true): the answer can be read back by its id. */
  store?: boolean;
}

export type Parsed = { ok: true; request: ApiRequest } | { ok: false; message: string };

export interface Answer {
  id: string;
  model: string;
  text: string;
  /** Earlier turns' narration (`GATEWAY_STREAM=final`), shown as reasoning where the API has it. */
  narration: string;
  usage: RunUsage;
  /** `max_turns` is told as each API tells an answer cut short by a limit. */
  stopReason: StopReason;
  /** The conversation's id (`X-Session-Id`). */
  sessionId: string;
}

/** One streamed answer; every method writes at once (SSE). */
export interface AnswerStream {
  narration(text: string): void;
  text(text: string): void;
  /** Keeps clients and proxies from timing out while tools run. */
  keepAlive(): void;
  done(usage: RunUsage, stopReason: StopReason): void;
  /** After the stream began, a failure travels inside it. */
  fail(status: number, message: string): void;
}

export interface Api {
  /** How this API's answer ids begin (`chatcmpl`, `msg`). */
  idPrefix: string;
  parse(body: unknown): Parsed;
  answer(answer: Answer): unknown;
  stream(res: ServerResponse, meta: { id: string; model: string; includeUsage: boolean }): AnswerStream;
  error(status: number, message: string): unknown;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** The text of a content value: a string, or the text parts of an array (others are refused by the caller). */
export function textOf(content: unknown): { text: string; unsupported: string | null } {
  if (typeof content === 'string') return { text: content, unsupported: null };
  if (!Array.isArray(content))
    return { text: '', unsupported: content === null || content === undefined ? null : 'content' };
  const texts: string[] = [];
  for (const part of content) {
    const type = typeof part === 'object' && part !== null ? Reflect.get(part, 'type') : undefined;
    const text = typeof part === 'object' && part !== null ? Reflect.get(part, 'text') : undefined;
    if ((type === 'text' || type === 'input_text' || type === 'output_text') && typeof text === 'string')
      texts.push(text);
    else return { text: '', unsupported: typeof type === 'string' ? type : 'part' };
  }
  return { text: texts.join('\n'), unsupported: null };
}

/** The OpenAI error `type` for a status: the SDKs pick their error class by status, people read the type. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  // A full queue or a wait past its limit is the gateway's capacity, not the request's fault.
  if (status === 408 || status === 429 || status === 503) return 'server_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}
