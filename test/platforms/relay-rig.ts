import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type ChatStats, type PlatformsConfig, startPlatforms } from '../../platforms/index.js';
import { createSessionEngine } from '../../sessions/index.js';
import type { SessionEngine } from '../../sessions/types.js';
import type { Transcriber } from '../../src/common/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { RELAY_NODE_HEADER, type RunningProxy, startProxy } from '../../src/proxy/index.js';
import {
  type FakeUpstream,
  lastUserText,
  messagesOf,
  startFakeUpstream,
  textReply,
  type UpstreamReply,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';

// The whole relay as main.ts wires it, on real parts: the real engine running the real `claude`, the embedded
// proxy, a scripted upstream (external), a chat fake (external), and a transcriber stand-in that returns
// known text (no real whisper weights exist on this machine; whisper itself is tested in test/voice).

export const CLAUDE_BIN = resolve(import.meta.dirname, '../../node_modules/.bin/claude');

/** Upstream replies chosen by a marker in the prompt; anything else gets a short text. */
export type Replies = Record<string, (request: UpstreamRequest) => UpstreamReply | Promise<UpstreamReply>>;

export interface RelayRig {
  upstream: FakeUpstream;
  /** The sessions' working directory (CLAUDE_WORKSPACE). */
  workspace: string;
  engine: SessionEngine;
  /** Every upstream request body whose last user text contains the marker. */
  requestsFor(marker: string): unknown[];
  /** Whether the conversation sent upstream for `marker` also carries `earlier` (an earlier prompt). */
  carries(marker: string, earlier: string): boolean;
  transcriber: Transcriber & { calls: number };
  /** Every chat's outbox counters. */
  chatStats(): ChatStats[];
  stop(): Promise<void>;
}

export async function startRelayRig(options: {
  replies: Replies;
  messaging: (rate: PlatformsConfig['rateLimit']) => PlatformsConfig;
  transcript: () => string;
  /**
   * What the stand-in transcriber reports while the note waits (as the real one does during a model download),
   * holding it until `until` settles.
   */
  transcriberStatus?: () => { status: string; until: Promise<unknown> } | null;
  /** Per chat; 5 per second unless given. */
  rate?: PlatformsConfig['rateLimit'];
  /** `CLAUDE_PERMISSIONS=ask` and its timeout (the default is skip, as in the relay). */
  permissions?: { mode: 'skip' | 'ask'; timeoutMs?: number };
  /** Photos and files saved into the workspace, as main.ts wires it (`workspace: config.sessions.workspace`). */
  attachments?: boolean;
  /** More of the relay's environment (PROJECTS, ALLOWED_DIR, WORKTREES …), read as main.ts reads it. */
  env?: Record<string, string>;
}): Promise<RelayRig> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-e2e-'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const logger = createLogger('silent', []);
  const upstream = await startFakeUpstream((request) => {
    const text = lastUserText(request.body);
    for (const [marker, reply] of Object.entries(options.replies)) {
      if (text.includes(marker)) return reply(request);
    }
    return textReply('ok');
  });
  const config = loadConfig(
    {
      PORT: '0',
      PROVIDER_TYPE: 'openai',
      OPENAI_BASE_URL: upstream.url,
      OPENAI_API_KEY: 'sk-test-upstream',
      MODEL: 'fake-model',
      CLAUDE_BIN,
      CLAUDE_WORKSPACE: join(dir, 'workspace'),
      SESSION_STORE_URL: `sqlite://${join(dir, 'store', 'sessions.sqlite')}`,
      // Through the environment, as a user sets it: the engine reads the mode from its config.
      ...(options.permissions && { CLAUDE_PERMISSIONS: options.permissions.mode }),
      ...(options.permissions?.timeoutMs && {
        PERMISSION_TIMEOUT: String(options.permissions.timeoutMs / 1000),
      }),
      ...options.env,
    },
    dir,
  );
  mkdirSync(config.sessions.workspace, { recursive: true });
  mkdirSync(dirname(join(dir, 'store', 'x')), { recursive: true });
  let engine: SessionEngine | undefined;
  const proxy: RunningProxy = await startProxy({
    config: config.proxy,
    logger,
    onProviderWait: ({ nodeId, ...wait }) => engine?.reportProviderWait(nodeId, wait),
  });
  engine = createSessionEngine({
    config: config.sessions,
    proxy: { url: proxy.url, authToken: undefined, nodeHeader: RELAY_NODE_HEADER },
    logger,
    childEnv: { HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', IS_SANDBOX: '1' },
    inheritedEnv: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    stopGraceMs: 300,
  });
  const transcriber: Transcriber & { calls: number } = {
    maxBytes: 1024 * 1024,
    calls: 0,
    async transcribe(_audio, _signal, onStatus) {
      transcriber.calls += 1;
      const held = options.transcriberStatus?.() ?? null;
      if (held !== null) {
        onStatus?.(held.status);
        await held.until;
      }
      return { ok: true, text: options.transcript(), timings: { decodeMs: 0, whisperMs: 0 } };
    },
  };
  const platforms = await startPlatforms({
    config: options.messaging(options.rate ?? { count: 5, windowMs: 1000 }),
    engine,
    transcriber,
    voiceEnabled: true,
    proxyStats: () => proxy.stats(),
    logger,
    typingIntervalMs: 1000,
    ...(options.attachments ? { workspace: config.sessions.workspace } : {}),
    ...(config.sessions.projects === undefined ? {} : { projects: config.sessions.projects }),
  });
  const requestsFor = (marker: string): unknown[] =>
    upstream.requests.filter((request) => lastUserText(request.body).includes(marker)).map((r) => r.body);
  return {
    upstream,
    workspace: config.sessions.workspace,
    engine,
    transcriber,
    requestsFor,
    chatStats: () => platforms.chatStats(),
    carries: (marker, earlier) =>
      requestsFor(marker).some((body) => JSON.stringify(messagesOf(body)).includes(earlier)),
    async stop() {
      await platforms.stop();
      await engine.close();
      await proxy.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 9,000-character answer in numbered paragraphs, so a test can check that every one of them arrived. */
export function longAnswer(): string {
  const paragraphs: string[] = [];
  for (let index = 1; paragraphs.join('\n\n').length < 9000; index++) {
    paragraphs.push(`Paragraph ${index} says: ${'the relay delivers every word '.repeat(6).trim()}.`);
  }
  return paragraphs.join('\n\n');
}
