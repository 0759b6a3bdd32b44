import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSessionEngine, type SessionEngineOptions } from '../../sessions/index.js';
import type { MessageRef, NodeSnapshot, ProgressEvent, SessionEngine } from '../../sessions/types.js';
import type { SessionsConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

// Drives the engine as a platform would, against the replay fake CLI (test/fakes/cli-replay.mjs).

export const FAKE_CLI = resolve(import.meta.dirname, '../fakes/cli-replay.mjs');

/** The engine config the fake CLI runs under; the fault rig's engine child uses it too, so either can take over a store. */
export function fakeCliConfig(dir: string, overrides: Partial<SessionsConfig> = {}): SessionsConfig {
  return {
    workspace: join(dir, 'workspace'),
    allowedDirs: [],
    maxSessions: 10,
    claudeBin: FAKE_CLI,
    backend: 'proxy',
    idleTimeoutMs: 30_000,
    storeUrl: `sqlite://${join(dir, 'store', 'sessions.sqlite')}`,
    ...overrides,
  };
}

export interface FakeLogEntry {
  event: 'start' | 'end';
  pid: number;
  t: number;
  args?: string[];
  cwd?: string;
  promptLength?: number;
  prompt?: string;
  code?: number;
}

export interface Harness {
  dir: string;
  engine: SessionEngine;
  events: Array<{ node: NodeSnapshot; event: ProgressEvent }>;
  fakeLog(): FakeLogEntry[];
  /** Resolves with the node once it reaches a final state. */
  finished(nodeId: string): Promise<NodeSnapshot>;
  /** A fresh engine over the same store and directories (a restart). */
  reopen(overrides?: Partial<SessionsConfig>): Harness;
  cleanup(): Promise<void>;
}

let counter = 0;
export const ref = (messageId: string, chatId = 'chat-1'): MessageRef => ({
  platform: 'test',
  chatId,
  messageId,
});
export const nextId = (): string => `m${++counter}`;

export function createHarness(
  overrides: Partial<SessionsConfig> = {},
  options: Partial<SessionEngineOptions> = {},
  existingDir?: string,
): Harness {
  const dir = existingDir ?? mkdtempSync(join(tmpdir(), 'sessions-test-'));
  mkdirSync(join(dir, 'home'), { recursive: true });
  const config = fakeCliConfig(dir, overrides);
  const engine = createSessionEngine({
    config,
    proxy: { url: 'http://127.0.0.1:9', authToken: undefined },
    logger: createLogger('silent', []),
    inheritedEnv: { PATH: `${resolve(process.execPath, '..')}:/usr/bin:/bin` },
    stopGraceMs: 300,
    ...options,
    // Added to, not replaced: the fake's log and a private HOME are what the harness reads.
    childEnv: { HOME: join(dir, 'home'), FAKE_CLI_LOG: join(dir, 'fake.log'), ...options.childEnv },
  });
  const events: Harness['events'] = [];
  const waiters = new Map<string, Array<(node: NodeSnapshot) => void>>();
  engine.subscribe((node, event) => {
    events.push({ node, event });
    if (event.type === 'state' && !['queued', 'running'].includes(event.state)) {
      for (const resolveWaiter of waiters.get(node.id) ?? []) resolveWaiter(node);
      waiters.delete(node.id);
    }
  });
  const harness: Harness = {
    dir,
    engine,
    events,
    fakeLog() {
      try {
        return readFileSync(join(dir, 'fake.log'), 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as FakeLogEntry);
      } catch {
        return [];
      }
    },
    finished(nodeId) {
      const node = engine.getNode(nodeId);
      if (node !== undefined && !['queued', 'running'].includes(node.state)) return Promise.resolve(node);
      return new Promise((resolveWaiter) => {
        waiters.set(nodeId, [...(waiters.get(nodeId) ?? []), resolveWaiter]);
      });
    },
    reopen(more = {}) {
      return createHarness({ ...overrides, ...more }, options, dir);
    },
    async cleanup() {
      await engine.close();
      if (existingDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Submits and insists on acceptance. */
export async function submitOk(
  engine: SessionEngine,
  prompt: string,
  replyTo: MessageRef | null = null,
): Promise<{ node: NodeSnapshot; forkedFrom: NodeSnapshot | null; origin: MessageRef }> {
  const origin = ref(nextId());
  const result = await engine.submit({ prompt, origin, replyTo });
  if (result.kind !== 'accepted') throw new Error(`rejected: ${result.reason}`);
  return { node: result.node, forkedFrom: result.forkedFrom, origin };
}
