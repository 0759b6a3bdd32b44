import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A scripted OpenAI-compatible chat-completions server (a fake of an EXTERNAL service) on 127.0.0.1:0.
// Each request is recorded, handed to the script, and answered as the script says: an SSE stream (which can
// break, hang or omit [DONE]), a JSON body, or an HTTP error.

export interface UpstreamRequest {
  /** 0-based order of arrival. */
  index: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body. `unknown` on purpose: read it with the helpers below (`messagesOf`, `lastUserText`). */
  body: unknown;
}

export type UpstreamReply =
  | {
      kind: 'stream';
      /** Objects are sent as `data: <json>`; strings are written raw (so a test can send broken SSE). */
      chunks: Array<string | object>;
      delayMs?: number;
      /** Destroy the socket after this many chunks. */
      breakAfter?: number;
      /** Stop sending after this many chunks without closing the connection. */
      hangAfter?: number;
      /** After `after` chunks, wait for `until` before sending the rest (a provider thinking silently). */
      pause?: { after: number; until: Promise<unknown> };
      omitDone?: boolean;
    }
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'error'; status: number; body?: unknown; headers?: Record<string, string> };

export type Script = (req: UpstreamRequest) => UpstreamReply | Promise<UpstreamReply>;

export interface FakeUpstream {
  /** e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  requests: UpstreamRequest[];
  close(): Promise<void>;
}

const ROUTES = new Set(['/v1/chat/completions', '/chat/completions']);

export async function startFakeUpstream(
  script: Script,
  /** `record: false` keeps memory flat for benchmarks (requests stays empty). */
  options: { record?: boolean } = {},
): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  let seen = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake upstream script failed: ${String(error)}` } }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = await readBody(req);
    if (req.method !== 'POST' || !ROUTES.has(path)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${path}` } }));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'malformed JSON' } }));
      return;
    }
    const request: UpstreamRequest = { index: seen++, path, headers: { ...req.headers }, body };
    if (options.record !== false) requests.push(request);
    const answer = await script(request);
    // A client that did not ask for a stream gets the same answer folded into one chat.completion JSON.
    const wantsStream = isRecord(body) && body.stream === true;
    await reply(res, answer.kind === 'stream' && !wantsStream ? foldStream(answer.chunks) : answer);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function reply(res: ServerResponse, answer: UpstreamReply): Promise<void> {
  if (answer.kind === 'json' || answer.kind === 'error') {
    const status = answer.kind === 'json' ? (answer.status ?? 200) : answer.status;
    const body =
      answer.body ?? (answer.kind === 'error' ? { error: { message: `fake upstream error ${status}` } } : {});
    res.writeHead(status, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let sent = 0;
  // A break must happen after what was sent has reached the socket, or it would cut earlier chunks too.
  let flushed: Promise<void> = Promise.resolve();
  const breakNow = async () => {
    await flushed;
    res.socket?.destroy();
  };
  for (const chunk of answer.chunks) {
    if (answer.breakAfter !== undefined && sent >= answer.breakAfter) return breakNow();
    if (answer.hangAfter !== undefined && sent >= answer.hangAfter) return; // closed only by close()
    if (answer.pause && sent === answer.pause.after) await answer.pause.until;
    if (answer.delayMs) await sleep(answer.delayMs);
    if (res.destroyed) return;
    const text = typeof chunk === 'string' ? chunk : `data: ${JSON.stringify(chunk)}\n\n`;
    if (answer.breakAfter === undefined) res.write(text);
    else flushed = new Promise((resolve) => res.write(text, () => resolve()));
    sent++;
  }
  if (answer.breakAfter !== undefined && sent >= answer.breakAfter) return breakNow();
  if (answer.hangAfter !== undefined && sent >= answer.hangAfter) return;
  if (!answer.omitDone) res.write('data: [DONE]\n\n');
  res.end();
}

/** Folds stream chunks into the non-streaming `chat.completion` shape (raw string chunks are ignored). */
function foldStream(chunks: Array<string | object>): UpstreamReply {
  let content = '';
  let reasoning = '';
  let finish: unknown = null;
  let usage: unknown;
  let id = 'chatcmpl-fake';
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const chunk of chunks) {
    if (!isRecord(chunk)) continue;
    if (typeof chunk.id === 'string') id = chunk.id;
    if (chunk.usage !== undefined) usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string') content += delta.content;
    if (typeof delta.reasoning_content === 'string') reasoning += delta.reasoning_content;
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
      const index = typeof call.index === 'number' ? call.index : 0;
      const fn = isRecord(call.function) ? call.function : {};
      const slot = calls[index] ?? {
        id: typeof call.id === 'string' ? call.id : `call_${index}`,
        type: 'function',
        function: { name: '', arguments: '' },
      };
      calls[index] = slot;
      if (typeof fn.name === 'string') slot.function.name += fn.name;
      if (typeof fn.arguments === 'string') slot.function.arguments += fn.arguments;
    }
  }
  const message: Record<string, unknown> = { role: 'assistant', content };
  if (reasoning) message.reasoning_content = reasoning;
  if (calls.length > 0) message.tool_calls = calls;
  return {
    kind: 'json',
    body: {
      id,
      object: 'chat.completion',
      created: 1_760_000_000,
      model: MODEL,
      choices: [{ index: 0, message, finish_reason: finish ?? 'stop' }],
      usage: usage ?? { prompt_tokens: 42, completion_tokens: 10, total_tokens: 52 },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Builders of realistic OpenAI stream chunks.

const MODEL = 'fake-model';

function base(id: string, created: number) {
  return { id, object: 'chat.completion.chunk', created, model: MODEL };
}

function split(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function usageChunk(id: string, created: number, prompt: number, completion: number, cached?: number) {
  return {
    ...base(id, created),
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } }),
    },
  };
}

/** A streamed text answer, optionally preceded by `reasoning_content` deltas. */
export function textReply(
  text: string,
  opts: { chunkSize?: number; reasoning?: string; delayMs?: number; cachedTokens?: number } = {},
): UpstreamReply {
  const id = `chatcmpl-${randomUUID().slice(0, 12)}`;
  const created = 1_760_000_000;
  const size = Math.max(1, opts.chunkSize ?? 8);
  const chunks: object[] = [
    {
      ...base(id, created),
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    },
  ];
  for (const part of split(opts.reasoning ?? '', size)) {
    chunks.push({
      ...base(id, created),
      choices: [{ index: 0, delta: { reasoning_content: part }, finish_reason: null }],
    });
  }
  for (const part of split(text, size)) {
    chunks.push({
      ...base(id, created),
      choices: [{ index: 0, delta: { content: part }, finish_reason: null }],
    });
  }
  chunks.push({ ...base(id, created), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  chunks.push(
    usageChunk(
      id,
      created,
      42,
      Math.max(1, Math.ceil((text.length + (opts.reasoning ?? '').length) / 4)),
      opts.cachedTokens,
    ),
  );
  return { kind: 'stream', chunks, ...(opts.delayMs === undefined ? {} : { delayMs: opts.delayMs }) };
}

/** Streamed tool calls whose JSON arguments arrive in `fragments` pieces each, optionally after some text. */
/**
 * How a provider lays out several tool calls: `sequential` (each call's fragments in turn: OpenAI), `interleaved`
 * (every call opens, then fragments alternate 0, 1, 0, 1 …, some chunks carrying two: vLLM and others),
 * `one_chunk` (every call whole in one chunk: Gemini's OpenAI endpoint).
 */
export type ToolCallLayout = 'sequential' | 'interleaved' | 'one_chunk';

export function toolCallReply(
  calls: Array<{ name: string; arguments: object | string; id?: string }>,
  opts: { fragments?: number; text?: string; layout?: ToolCallLayout; reasoning?: string } = {},
): UpstreamReply {
  const id = `chatcmpl-${randomUUID().slice(0, 12)}`;
  const created = 1_760_000_000;
  const chunk = (delta: object): object => ({
    ...base(id, created),
    choices: [{ index: 0, delta, finish_reason: null }],
  });
  const chunks: object[] = [chunk({ role: 'assistant', content: '' })];
  if (opts.reasoning) chunks.push(chunk({ reasoning_content: opts.reasoning }));
  if (opts.text) chunks.push(chunk({ content: opts.text }));
  const prepared = calls.map((call, index) => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
    const pieces = Math.max(1, opts.fragments ?? 3);
    return {
      opening: { index, id: call.id ?? `call_${randomUUID().slice(0, 12)}`, type: 'function' },
      name: call.name,
      args,
      parts: split(args, Math.max(1, Math.ceil(args.length / pieces))),
    };
  });
  const layout = opts.layout ?? 'sequential';
  if (layout === 'one_chunk') {
    chunks.push(
      chunk({
        tool_calls: prepared.map((call) => ({
          ...call.opening,
          function: { name: call.name, arguments: call.args },
        })),
      }),
    );
  } else if (layout === 'interleaved') {
    for (const call of prepared) {
      chunks.push(chunk({ tool_calls: [{ ...call.opening, function: { name: call.name, arguments: '' } }] }));
    }
    const longest = Math.max(...prepared.map((call) => call.parts.length));
    for (let step = 0; step < longest; step++) {
      const due = prepared
        .filter((call) => step < call.parts.length)
        .map((call) => ({ index: call.opening.index, function: { arguments: call.parts[step] } }));
      // Every third step carries the fragments of all calls in one chunk; the others one chunk per call.
      if (step % 3 === 2) chunks.push(chunk({ tool_calls: due }));
      else for (const fragment of due) chunks.push(chunk({ tool_calls: [fragment] }));
    }
  } else {
    for (const call of prepared) {
      chunks.push(chunk({ tool_calls: [{ ...call.opening, function: { name: call.name, arguments: '' } }] }));
      for (const part of call.parts) {
        chunks.push(chunk({ tool_calls: [{ index: call.opening.index, function: { arguments: part } }] }));
      }
    }
  }
  chunks.push({ ...base(id, created), choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] });
  chunks.push(usageChunk(id, created, 42, 20));
  return { kind: 'stream', chunks };
}

// ---------------------------------------------------------------------------------------------------------
// Readers for scripts: the request body is foreign JSON, so parse it instead of casting.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `messages` array of an OpenAI request, each entry a record (anything else is dropped). */
export function messagesOf(body: unknown): Array<Record<string, unknown>> {
  if (!isRecord(body) || !Array.isArray(body.messages)) return [];
  return body.messages.filter(isRecord);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isRecord)
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** The text of the last user message of an OpenAI request ('' if none). */
export function lastUserText(body: unknown): string {
  const users = messagesOf(body).filter((m) => m.role === 'user');
  return contentText(users.at(-1)?.content);
}

/** The role of the last non-system message ('tool' means the model is being given a tool result). */
export function lastRole(body: unknown): string {
  const last = messagesOf(body)
    .filter((m) => m.role !== 'system')
    .at(-1);
  return typeof last?.role === 'string' ? last.role : '';
}

/** The contents of every `tool` message, in order. */
export function toolResults(body: unknown): string[] {
  return messagesOf(body)
    .filter((m) => m.role === 'tool')
    .map((m) => contentText(m.content));
}
