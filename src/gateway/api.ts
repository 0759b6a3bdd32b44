import type { ServerResponse } from 'node:http';
import type { PromptImage } from '../../sessions/index.js';
import { isRecord } from '../common/index.js';
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
  /** When the request came, in seconds: an answer streamed and the same answer read back say the same. */
  createdAt: number;
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
  stream(
    res: ServerResponse,
    meta: { id: string; model: string; includeUsage: boolean; createdAt: number },
  ): AnswerStream;
  error(status: number, message: string): unknown;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** What a message's content holds: its text, and images for the CLI; or why it cannot be taken. */
export type Content = { ok: true; text: string; images: PromptImage[] } | { ok: false; reason: string };

/** The image types providers take, each with how its file begins (a wrong label is refused before a session). */
const IMAGE_SIGNATURES: Readonly<Record<string, (head: Buffer) => boolean>> = {
  'image/png': (head) =>
    head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff,
  'image/gif': (head) => head.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (head) =>
    head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** An image from a `data:` URL; the relay fetches nothing, so any other URL is refused. */
function imageFromUrl(url: unknown): PromptImage | string {
  if (typeof url !== 'string') return 'an image part must carry its URL';
  const match = /^data:([\w/+.-]+);base64,(.*)$/s.exec(url);
  if (match === null) return 'an image must be a data: URL with base64 data (the relay fetches no URLs)';
  return imageOf(match[1] ?? '', match[2] ?? '');
}

function imageOf(label: string, data: string): PromptImage | string {
  const mediaType = label === 'image/jpg' ? 'image/jpeg' : label; // a label many clients send
  const looksLike = IMAGE_SIGNATURES[mediaType];
  if (looksLike === undefined) return `images of type "${label}" are not supported (png, jpeg, gif, webp)`;
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return "an image's data is not base64";
  if (!looksLike(Buffer.from(data.slice(0, 16), 'base64'))) return `an image labelled "${label}" is not one`;
  return { mediaType, data };
}

/** One content part: text, an image (OpenAI `image_url`/`input_image`, Anthropic `image`), or a refusal. */
function partOf(part: unknown): string | PromptImage | { refused: string } {
  if (!isRecord(part)) return { refused: 'a content part must be an object' };
  const { type } = part;
  if ((type === 'text' || type === 'input_text' || type === 'output_text') && typeof part.text === 'string')
    return part.text;
  let image: PromptImage | string | undefined;
  if (type === 'image_url')
    image = imageFromUrl(isRecord(part.image_url) ? part.image_url.url : part.image_url);
  else if (type === 'input_image') image = imageFromUrl(part.image_url);
  else if (type === 'image' && isRecord(part.source)) {
    image =
      part.source.type === 'base64'
        ? imageOf(String(part.source.media_type), String(part.source.data ?? ''))
        : 'an image must be base64 data (the relay fetches no URLs)';
  }
  if (image === undefined)
    return { refused: `content of type "${String(type ?? 'part')}" is not supported (text and images)` };
  return typeof image === 'string' ? { refused: image } : image;
}

/** The text and images of a content value: a string, or an array of parts. */
export function contentOf(content: unknown): Content {
  if (typeof content === 'string') return { ok: true, text: content, images: [] };
  if (content === null || content === undefined) return { ok: true, text: '', images: [] };
  if (!Array.isArray(content)) return { ok: false, reason: 'content must be a string or an array of parts' };
  const texts: string[] = [];
  const images: PromptImage[] = [];
  for (const raw of content) {
    const part = partOf(raw);
    if (typeof part === 'string') texts.push(part);
    else if ('refused' in part) return { ok: false, reason: part.refused };
    else images.push(part);
  }
  return { ok: true, text: texts.join('\n'), images };
}

/** The OpenAI error `type` for a status: the SDKs pick their error class by status, people read the type. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  // A full queue or a wait past its limit is the gateway's capacity, not the request's fault.
  if (status === 408 || status === 429 || status === 503) return 'server_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}
