import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A scripted Anthropic-compatible Messages API (a fake of an EXTERNAL service, e.g. a self-hosted gateway) on
// 127.0.0.1:0, for the proxy's `anthropic` pass-through provider. Requests are recorded with their headers.

/** One Messages-API stream event as the fake sends it: a `type` plus whatever fields that event has. */
export type AnthropicWireEvent = { type: string } & Record<string, unknown>;

export interface AnthropicUpstreamRequest {
  index: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export type AnthropicUpstreamReply =
  /** Each event is framed as `event: <type>` + `data: <json>`; strings are written raw. */
  | { kind: 'sse'; events: Array<string | AnthropicWireEvent>; breakAfter?: number }
  | { kind: 'json'; body: unknown }
  | { kind: 'error'; status: number; body?: unknown; headers?: Record<string, string> };

export interface FakeAnthropicUpstream {
  /** The base URL (ANTHROPIC_UPSTREAM_URL); the proxy appends /v1/messages. */
  url: string;
  requests: AnthropicUpstreamRequest[];
  close(): Promise<void>;
}

export function sseFrame(event: string | AnthropicWireEvent): string {
  return typeof event === 'string' ? event : `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A complete, valid Anthropic text stream. */
export function anthropicTextEvents(text: string, model = 'upstream-model'): AnthropicWireEvent[] {
  return [
    {
      type: 'message_start',
      message: {
        id: 'msg_upstream',
        type: 'message',
        role: 'assistant',
        content: [],
        model,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
    { type: 'content_block_stop', index: 0 },
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 12, output_tokens: 5 },
    },
    { type: 'message_stop' },
  ];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeAnthropicUpstream(
  script: (req: AnthropicUpstreamRequest) => AnthropicUpstreamReply,
): Promise<FakeAnthropicUpstream> {
  const requests: AnthropicUpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = await readBody(req);
    if (req.method !== 'POST' || path !== '/v1/messages') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } }),
      );
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const request = { index: requests.length, path, headers: { ...req.headers }, body };
    requests.push(request);
    const reply = script(request);
    if (reply.kind === 'error') {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(
        JSON.stringify(
          reply.body ?? {
            type: 'error',
            error: { type: 'api_error', message: `fake error ${reply.status}` },
          },
        ),
      );
      return;
    }
    if (reply.kind === 'json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    for (const event of reply.events) {
      if (reply.breakAfter !== undefined && sent >= reply.breakAfter) {
        res.socket?.destroy();
        return;
      }
      // Wait until each event has reached the socket, so a break really happens mid-stream.
      await new Promise<void>((resolve) => res.write(sseFrame(event), () => resolve()));
      sent++;
    }
    res.end();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
