import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { vi } from 'vitest';
import {
  type FakeUpstream,
  lastUserText,
  messagesOf,
  startFakeUpstream,
  textReply,
  type UpstreamReply,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';

// The relay as `npm start` runs it (src/main.ts, one process, the real `claude`), with no bot token, so the web
// console is where tasks are typed; a scripted upstream (external) answers; a real Chromium drives the page.

const root = resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';

export type Replies = Record<string, (request: UpstreamRequest) => UpstreamReply | Promise<UpstreamReply>>;

export interface ConsoleRelay {
  /** http://127.0.0.1:PORT (the proxy's port, where /ui/ is served). */
  url: string;
  upstream: FakeUpstream;
  output(): string;
  /** Whether the conversation sent upstream for `marker` also carries `earlier`. */
  carries(marker: string, earlier: string): boolean;
  requestsFor(marker: string): unknown[];
  /** The relay's working directory (its store and workspace), for a restart in the same place. */
  dir: string;
  /** SIGTERM; the directory is removed unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

export async function startConsoleRelay(options: {
  replies: Replies;
  env?: Record<string, string>;
  /** Start where an earlier relay ran (its store, its workspace): a restart. */
  dir?: string;
}): Promise<ConsoleRelay> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'relay-console-'));
  mkdirSync(join(dir, 'home'), { recursive: true });
  const upstream = await startFakeUpstream((request) => {
    const text = lastUserText(request.body);
    for (const [marker, reply] of Object.entries(options.replies)) {
      if (text.includes(marker)) return reply(request);
    }
    return textReply('ok');
  });
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, join(root, 'src/main.ts')], {
    cwd: dir,
    env: {
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: join(dir, 'home'),
      PORT: '0',
      PROVIDER_TYPE: 'openai',
      OPENAI_BASE_URL: upstream.url,
      OPENAI_API_KEY: 'sk-test-upstream',
      MODEL: 'fake-model',
      CLAUDE_BIN: join(root, 'node_modules/.bin/claude'),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  let url = '';
  try {
    await vi.waitFor(
      () => {
        const found = /Web console: (http:\/\/127\.0\.0\.1:\d+)\/ui\//.exec(output);
        if (!found?.[1]) throw new Error(`no console address yet:\n${output}`);
        url = found[1];
      },
      { timeout: 60_000, interval: 100 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    await upstream.close();
    throw error;
  }
  const requestsFor = (marker: string): unknown[] =>
    upstream.requests.filter((request) => lastUserText(request.body).includes(marker)).map((r) => r.body);
  return {
    url,
    dir,
    upstream,
    output: () => output,
    requestsFor,
    carries: (marker, earlier) =>
      requestsFor(marker).some((body) => JSON.stringify(messagesOf(body)).includes(earlier)),
    async stop(stopOptions = {}) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await upstream.close();
      if (!stopOptions.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Real headless Chromium with a fresh profile and nothing of its own on the network. */
export async function launchChromium(
  /** Chromium's fake microphone (a beep) instead of none, answering yes to the page's request for it. */
  options: { fakeMicrophone?: boolean } = {},
): Promise<{ browser: Browser; newContext(): Promise<BrowserContext> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(options.fakeMicrophone
        ? ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']
        : []),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, newContext: () => browser.newContext() };
}

/** A promise the test resolves: an upstream answer held until then (a provider still thinking). */
export function gate(): { opened: Promise<void>; open(): void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * A TCP forwarder between the browser and the relay, so a test can cut the page's connections (as a network
 * drop does) and hold new ones until it lets them through.
 */
export interface Forwarder {
  url: string;
  /** Destroys every open connection; new ones wait until `restore`. */
  drop(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startForwarder(target: string): Promise<Forwarder> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const held: Socket[] = [];
  let holding = false;
  const connect = (client: Socket): void => {
    const server = connectTo(Number(port), hostname);
    open.add(client);
    open.add(server);
    client.pipe(server).pipe(client);
    const end = (): void => {
      client.destroy();
      server.destroy();
      open.delete(client);
      open.delete(server);
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  };
  const listener: Server = createServer((client) => {
    if (holding) held.push(client);
    else connect(client);
  });
  await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
  const address = listener.address();
  const listenPort = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${listenPort}`,
    drop() {
      holding = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      holding = false;
      for (const client of held.splice(0)) if (!client.destroyed) connect(client);
    },
    async close() {
      for (const socket of [...open, ...held]) socket.destroy();
      await new Promise<void>((done) => listener.close(() => done()));
    },
  };
}
