import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSessionEngine, type SessionEngineOptions } from '../../sessions/index.js';
import type { NodeSnapshot, SessionEngine } from '../../sessions/types.js';
import { loadConfig, type SessionsConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { RELAY_NODE_HEADER, type RunningProxy, startProxy } from '../../src/proxy/index.js';
import {
  type FakeUpstream,
  lastRole,
  lastUserText,
  messagesOf,
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamReply,
} from '../fakes/openai-upstream.js';

// Real parts end to end: the scripted upstream (external service fake) → the real proxy → the real CLI, driven
// by the engine as a platform would.

export const CLAUDE_BIN = resolve(import.meta.dirname, '../../node_modules/.bin/claude');

/** Every `WORD-<letters>` token in the request's messages, in order: what the model was shown. */
export function tokensSeen(body: unknown): string[] {
  const text = JSON.stringify(messagesOf(body));
  return [...new Set(text.match(/WORD-[A-Z]+/g) ?? [])];
}

/** Answers with the tokens it saw; a prompt with SLOW streams a long answer slowly. */
export function echoScript(req: { body: unknown }): UpstreamReply {
  const seen = tokensSeen(req.body);
  if (seen.some((token) => token.startsWith('WORD-SLOW'))) {
    return textReply(`slow ${'word '.repeat(400)}`, { chunkSize: 5, delayMs: 50 });
  }
  return textReply(`seen: ${seen.join(' ')}`, { chunkSize: 6 });
}

/** `RUN <command>` in the prompt: one Bash call running it; after its result, an answer quoting the result. */
export function bashScript(req: { body: unknown }): UpstreamReply {
  if (lastRole(req.body) === 'tool') {
    return textReply(`output: ${(toolResults(req.body).at(-1) ?? '').trim()}`);
  }
  const command = /RUN (.+)$/m.exec(lastUserText(req.body))?.[1];
  if (command === undefined) return textReply('no command');
  return toolCallReply([{ name: 'Bash', arguments: { command, description: 'run what the user asked' } }]);
}

export interface E2eRig {
  dir: string;
  proxy: RunningProxy;
  upstream: FakeUpstream;
  sessionsConfig(overrides?: Partial<SessionsConfig>): SessionsConfig;
  /** `options`: engine options beyond the config (pre-start, permissions …). */
  engine(overrides?: Partial<SessionsConfig>, options?: Partial<SessionEngineOptions>): SessionEngine;
  childEnv: Record<string, string>;
  /**
   * Pids of processes working inside this rig's workspace; with `parent`, only that process's direct children
   * (the CLIs themselves, not the shells or helpers a CLI starts).
   */
  cliPids(parent?: number): number[];
  close(): Promise<void>;
}

export async function startE2eRig(upstream: FakeUpstream): Promise<E2eRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sessions-e2e-'));
  const engines: SessionEngine[] = [];
  const proxy = await startProxy({
    config: loadConfig(
      {
        PORT: '0',
        PROVIDER_TYPE: 'openai',
        OPENAI_BASE_URL: upstream.url,
        OPENAI_API_KEY: 'sk-test',
        MODEL: 'fake-model',
      },
      dir,
    ).proxy,
    logger: createLogger('silent', []),
    // As main.ts wires it: the proxy names the node whose request waits, the engine tells its listeners.
    onProviderWait: ({ nodeId, ...wait }) => {
      for (const engine of engines) engine.reportProviderWait(nodeId, wait);
    },
  });
  const childEnv = { HOME: join(dir, 'home') };
  const sessionsConfig = (overrides: Partial<SessionsConfig> = {}): SessionsConfig => ({
    workspace: join(dir, 'workspace'),
    allowedDirs: [],
    maxSessions: 10,
    claudeBin: CLAUDE_BIN,
    backend: 'proxy',
    idleTimeoutMs: 60_000,
    storeUrl: `sqlite://${join(dir, 'store', 'sessions.sqlite')}`,
    ...overrides,
  });
  const cliPids = (parent?: number): number[] => {
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (!readlinkSync(`/proc/${name}/cwd`).startsWith(join(dir, 'workspace'))) continue;
        // /proc/N/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (parent === undefined || ppid === parent) pids.push(Number(name));
      } catch {
        // The process ended while we looked, or is not ours to read.
      }
    }
    return pids;
  };
  return {
    dir,
    proxy,
    upstream,
    childEnv,
    sessionsConfig,
    engine(overrides, options = {}) {
      const engine = createSessionEngine({
        ...options,
        config: sessionsConfig(overrides),
        proxy: { url: proxy.url, authToken: undefined, nodeHeader: RELAY_NODE_HEADER },
        logger: createLogger('silent', []),
        childEnv,
        inheritedEnv: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      });
      engines.push(engine);
      return engine;
    },
    cliPids,
    async close() {
      for (const engine of engines) await engine.close();
      for (const pid of cliPids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await proxy.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function finishedNode(engine: SessionEngine, nodeId: string): Promise<NodeSnapshot> {
  return new Promise((resolveNode) => {
    const check = (node: NodeSnapshot | undefined): boolean => {
      if (node === undefined || node.state === 'queued' || node.state === 'running') return false;
      unsubscribe();
      resolveNode(node);
      return true;
    };
    const unsubscribe = engine.subscribe((node, event) => {
      if (node.id === nodeId && event.type === 'state') check(node);
    });
    check(engine.getNode(nodeId));
  });
}
