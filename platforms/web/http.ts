import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { NodeSnapshot } from '../../sessions/index.js';
import type { HttpRoutes } from '../platform.js';
import { createConsoleAccess, sameOrigin } from './access.js';
import type { LoggedChange, MessageLog } from './message-log.js';
import { PostError, type Posted, parsePosted } from './posted.js';
import { nodeDetail, nodeLine } from './tree-view.js';

// The console's HTTP side, mounted by the relay under /ui/ on the proxy's port: the page and its two assets,
// the state a page starts from, the stream of changes after it (Server-Sent Events, resumable by event id),
// and the posts that send a message or press a button.

export interface ConsoleHttp extends HttpRoutes {
  /** Ends every open stream of changes. */
  close(): void;
}

export interface ConsoleHttpOptions {
  authToken: string | undefined;
  log: MessageLog;
  /** Calls `follower` with every change from now on; returns the unfollow function. */
  follow(follower: (change: LoggedChange) => void): () => void;
  receive(posted: Posted): { messageId: string };
  conversations(): NodeSnapshot[];
  maxFileBytes: number;
  logger: Logger;
}

/** The page's own script and style only; nothing inline, nothing from elsewhere. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const KEEP_ALIVE_MS = 15_000;

interface Asset {
  type: string;
  body: Buffer;
}

export function createConsoleHttp(options: ConsoleHttpOptions): ConsoleHttp {
  const { log, logger } = options;
  const access = createConsoleAccess(options.authToken);
  const assets = loadAssets();
  const streams = new Set<ServerResponse>();
  // Base64 makes a file a third larger; a few files and the text fit.
  const maxBodyBytes = Math.ceil(options.maxFileBytes * 1.4) * 4 + 1024 * 1024;

  const stream = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const header = req.headers['last-event-id'];
    const lastSeen = typeof header === 'string' ? header : url.searchParams.get('after');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const missed = log.after(lastSeen);
    if (missed.kind === 'reload') {
      res.end('event: reload\ndata: {}\n\n');
      return;
    }
    const send = (change: LoggedChange): void => {
      res.write(`id: ${change.id}\ndata: ${JSON.stringify(change.change)}\n\n`);
    };
    for (const change of missed.changes) send(change);
    const unfollow = options.follow(send);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    streams.add(res);
    res.on('close', () => {
      clearInterval(keepAlive);
      unfollow();
      streams.delete(res);
    });
  };

  const post = async (
    req: IncomingMessage,
    res: ServerResponse,
    what: 'message' | 'press',
  ): Promise<void> => {
    const body = await readBody(req, maxBodyBytes);
    const posted = parsePosted(what, body, { log, maxFileBytes: options.maxFileBytes });
    json(res, 202, options.receive(posted));
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'POST' && !sameOrigin(req)) {
      return json(res, 403, { error: 'refused: this request did not come from the console’s own page' });
    }
    if (method === 'POST' && path === '/ui/api/login') {
      const body = await readBody(req, 4096);
      const token = tokenOf(body);
      const cookie = token === null ? null : access.login(token);
      if (cookie === null) return json(res, 401, { error: 'wrong token' });
      res.setHeader('set-cookie', cookie);
      return json(res, 200, { ok: true });
    }
    if (!access.admitted(req)) {
      if (!access.needsLogin) {
        return json(res, 403, {
          error:
            'without PROXY_AUTH_TOKEN the console answers only at a loopback address (127.0.0.1, localhost)',
        });
      }
      return json(res, 401, { error: 'log in with PROXY_AUTH_TOKEN', login: true });
    }
    if (method === 'GET' && path === '/ui/api/state') {
      return json(res, 200, { lastId: log.lastId(), messages: log.messages() });
    }
    if (method === 'GET' && path === '/ui/api/events') return stream(req, res, url);
    if (method === 'GET' && path === '/ui/api/tree') {
      return json(res, 200, { nodes: options.conversations().map(nodeLine) });
    }
    if (method === 'GET' && path === '/ui/api/node') {
      const node = options.conversations().find((candidate) => candidate.id === url.searchParams.get('id'));
      if (node === undefined) return json(res, 404, { error: 'no such conversation (cleared?)' });
      return json(res, 200, nodeDetail(node));
    }
    if (method === 'POST' && path === '/ui/api/send') return post(req, res, 'message');
    if (method === 'POST' && path === '/ui/api/press') return post(req, res, 'press');
    json(res, 404, { error: `no route ${method} ${path}` });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (url.pathname.startsWith('/ui/api/')) return api(req, res, url);
    if (url.pathname === '/ui') {
      res.writeHead(301, { location: '/ui/' }).end();
      return;
    }
    const asset = assets.get(url.pathname === '/ui/' ? 'index.html' : url.pathname.slice('/ui/'.length));
    if (asset === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.byteLength,
      'cache-control': 'no-cache',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  };

  return {
    prefix: '/ui',
    handle(req, res) {
      route(req, res).catch((error: unknown) => {
        if (error instanceof PostError) return json(res, error.status, { error: error.message });
        logger.error({ err: error }, 'console request failed');
        if (!res.headersSent) json(res, 500, { error: 'the console failed; see the relay log' });
        else res.end();
      });
    },
    close() {
      for (const open of streams) open.end();
      streams.clear();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new PostError(413, `the message is larger than ${Math.floor(limit / 1024 / 1024)} MB`));
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts, size)));
    req.on('error', reject);
  });
}

function tokenOf(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'token' in parsed &&
      typeof parsed.token === 'string'
    ) {
      return parsed.token;
    }
  } catch {}
  return null;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/**
 * The page's files, committed as written (no build step). Beside this module when run from the sources; from
 * dist/ they are read from the sources' folder, which the package ships.
 */
function loadAssets(): Map<string, Asset> {
  const here = join(import.meta.dirname, 'assets');
  const dir = existsSync(here) ? here : join(import.meta.dirname, '../../../platforms/web/assets');
  return new Map(
    Object.entries(TYPES).map(([name, type]) => [name, { type, body: readFileSync(join(dir, name)) }]),
  );
}
