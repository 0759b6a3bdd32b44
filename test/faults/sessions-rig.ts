import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import KeyvSqlite from '@keyv/sqlite';
import { execa, type ResultPromise } from 'execa';
import Keyv from 'keyv';
import { createTaskView, reduceTaskView, renderFinal } from '../../platforms/render/index.js';
import { telegramHtml } from '../../platforms/telegram/index.js';
import type { MessageRef, NodeSnapshot, ProgressEvent, SessionEngine } from '../../sessions/types.js';
import type { SessionsConfig } from '../../src/config.js';

// Helpers for the session fault suite: the engine in its own process (so it can be killed -9 or stripped of
// root's right to ignore file modes), what a user would read for a node, and process checks through /proc.

const ENGINE_CHILD = resolve(import.meta.dirname, '../sessions/engine-child.ts');

export type ChildMessage =
  | { kind: 'ready' | 'closed' | 'linked' }
  | { kind: 'start-failed'; message: string }
  | {
      kind: 'submitted';
      result: { kind: 'accepted'; node: NodeSnapshot } | { kind: 'rejected'; reason: string };
    }
  | { kind: 'event'; node: NodeSnapshot; event: ProgressEvent };

export interface EngineProcess {
  pid: number;
  messages: ChildMessage[];
  /** Resolves with the first message (already seen or still to come) that matches. */
  waitFor(match: (message: ChildMessage) => boolean): Promise<ChildMessage>;
  send(command: unknown): void;
  exit: ResultPromise;
}

export function startEngineProcess(options: {
  dir: string;
  config: SessionsConfig;
  engineOptions?: Record<string, number>;
  /** Run it as root without CAP_DAC_OVERRIDE (setpriv), so file modes apply as they would to any user. */
  honourFileModes?: boolean;
}): EngineProcess {
  const setup = JSON.stringify({
    config: options.config,
    proxyUrl: 'http://127.0.0.1:9',
    childEnv: { HOME: join(options.dir, 'home'), FAKE_CLI_LOG: join(options.dir, 'fake.log') },
    inheritedPath: `${resolve(process.execPath, '..')}:/usr/bin:/bin`,
    engineOptions: { stopGraceMs: 300, ...options.engineOptions },
  });
  const nodeArgs = ['--import', 'tsx', ENGINE_CHILD, setup];
  const asRoot = options.honourFileModes === true && process.getuid?.() === 0;
  if (asRoot && !['/usr/bin/setpriv', '/bin/setpriv'].some((path) => existsSync(path))) {
    throw new Error('this test runs as root and needs setpriv (util-linux) to make file modes apply');
  }
  const exit = asRoot
    ? execa('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, ...nodeArgs], {
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'inherit',
        reject: false,
        buffer: false,
      })
    : execa(process.execPath, nodeArgs, {
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'inherit',
        reject: false,
        buffer: false,
      });
  const messages: ChildMessage[] = [];
  const waiters: Array<{ match: (m: ChildMessage) => boolean; done: (m: ChildMessage) => void }> = [];
  createInterface({ input: exit.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as ChildMessage; // our own child's protocol, written above
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (!waiter.match(message)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.done(message);
    }
  });
  return {
    pid: exit.pid ?? -1,
    messages,
    waitFor(match) {
      const seen = messages.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((done, fail) => {
        waiters.push({ match, done });
        void exit.then(() => {
          // A child that ended cannot send it any more: fail instead of hanging until the test timeout.
          if (waiters.some((waiter) => waiter.done === done)) fail(new Error('engine process exited'));
        });
      });
    },
    send(command) {
      exit.stdin?.write(`${JSON.stringify(command)}\n`);
    },
    exit,
  };
}

/** Alive, not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Polls a condition until it holds; the test's own timeout bounds it. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

/** What the user reads once the node ends: its events folded as the renderers fold them, final text in plain. */
export function userText(
  events: Array<{ node: NodeSnapshot; event: ProgressEvent }>,
  node: NodeSnapshot,
): string {
  let view = createTaskView(node);
  for (const item of events) if (item.node.id === node.id) view = reduceTaskView(view, item.event);
  return renderFinal(view, { dialect: telegramHtml, maxLength: 4096 })
    .map((part) => part.plain)
    .join('\n');
}

export function nodeOf(engine: SessionEngine, ref: MessageRef): NodeSnapshot {
  const node = engine.findNodeByMessage(ref);
  if (node === undefined) throw new Error(`no node for ${ref.messageId}`);
  return node;
}

/** The node as the store holds it right now (read through a second connection, as a restart would read it). */
export async function storedNode(config: SessionsConfig, nodeId: string): Promise<NodeSnapshot | undefined> {
  const keyv = new Keyv({ store: new KeyvSqlite({ uri: config.storeUrl }), namespace: 'relay' });
  try {
    const value: unknown = await keyv.get(`node:${nodeId}`);
    const node = typeof value === 'object' && value !== null ? Reflect.get(value, 'node') : undefined;
    return node as NodeSnapshot | undefined; // written by the engine under test, schema-checked on its own load
  } finally {
    await keyv.disconnect();
  }
}
