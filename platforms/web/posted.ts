import type { MessageLog } from './message-log.js';

// What a page may post, checked before anything happens: a bad post gets a 4xx naming what is wrong and
// changes nothing.

/** What a page posts: a message (text, files, a voice note) or a button press. */
export type Posted =
  | { kind: 'message'; text: string; replyTo: string | null; files: PostedFile[]; voice: PostedFile | null }
  | { kind: 'press'; messageId: string; data: string };

export interface PostedFile {
  name: string;
  type: string;
  data: Uint8Array;
}

export class PostError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PostError';
  }
}

const MAX_TEXT = 100_000;
const MAX_FILES = 10;

type Fields = Record<string, unknown>;

export function parsePosted(
  what: 'message' | 'press',
  body: Buffer,
  context: { log: MessageLog; maxFileBytes: number },
): Posted {
  const fields = objectOf(body);
  if (what === 'press') {
    const { messageId, data } = fields;
    if (
      typeof messageId !== 'string' ||
      typeof data !== 'string' ||
      context.log.get(messageId) === undefined
    ) {
      throw new PostError(400, 'that button is no longer here');
    }
    return { kind: 'press', messageId, data };
  }
  const text = fields.text ?? '';
  if (typeof text !== 'string') throw new PostError(400, 'text must be a string');
  if (text.length > MAX_TEXT) throw new PostError(413, `the message is longer than ${MAX_TEXT} characters`);
  const replyTo = fields.replyTo ?? null;
  if (replyTo !== null && (typeof replyTo !== 'string' || context.log.get(replyTo) === undefined)) {
    throw new PostError(400, 'the message you reply to is no longer here (cleared?)');
  }
  const files = Array.isArray(fields.files)
    ? fields.files.map((file) => fileOf(file, context.maxFileBytes))
    : [];
  if (files.length > MAX_FILES) throw new PostError(413, `at most ${MAX_FILES} files at once`);
  const voice =
    fields.voice === undefined || fields.voice === null ? null : fileOf(fields.voice, context.maxFileBytes);
  if (text.trim() === '' && files.length === 0 && voice === null) {
    throw new PostError(400, 'nothing to send: type a message, attach a file or record a voice note');
  }
  return { kind: 'message', text, replyTo, files, voice };
}

function objectOf(body: Buffer): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PostError(400, 'the body must be JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PostError(400, 'the body must be a JSON object');
  }
  return parsed as Fields;
}

function fileOf(value: unknown, maxBytes: number): PostedFile {
  if (typeof value !== 'object' || value === null)
    throw new PostError(400, 'a file must be {name, type, data}');
  const { name, type, data } = value as Fields;
  if (typeof name !== 'string' || typeof type !== 'string' || typeof data !== 'string') {
    throw new PostError(400, 'a file must be {name, type, data} with data in base64');
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.byteLength > maxBytes) {
    throw new PostError(413, `${name} is larger than ${Math.floor(maxBytes / 1024 / 1024)} MB`);
  }
  return { name, type, data: new Uint8Array(bytes) };
}
