import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderWait } from '../../src/proxy/index.js';
import {
  type FakeUpstream,
  startFakeUpstream,
  textReply,
  toolCallReply,
  type UpstreamReply,
} from '../fakes/openai-upstream.js';
import { NEWER_CLI_VERSION, OLDER_CLI_VERSION, testedClis } from './cli-install.js';
import { type Rig, runClaude, startRig } from './harness.js';

// MODEL_FALLBACKS with the real CLI: the tier's provider fails or stays rate-limited, the next one answers, the
// session is told which, and /stats counts it.

let rig: Rig | undefined;
let backup: FakeUpstream | undefined;
afterEach(async () => {
  await rig?.close();
  await backup?.close();
  rig = undefined;
  backup = undefined;
});

async function withFallback(primary: Parameters<typeof startRig>[0], env: Record<string, string> = {}) {
  backup = await startFakeUpstream(() => textReply('Answered by the backup.'));
  const waits: ProviderWait[] = [];
  rig = await startRig(
    primary,
    { MODEL_FALLBACKS: 'lmstudio/backup-model', LM_STUDIO_BASE_URL: backup.url, ...env },
    { onProviderWait: (wait) => waits.push(wait) },
  );
  const result = await runClaude(rig.proxy.url, 'say something', {
    ANTHROPIC_CUSTOM_HEADERS: 'x-claude-relay-node: node-1',
  });
  return { result, waits };
}

describe('fallback providers', () => {
  it('a provider that keeps failing (HTTP 503) hands the request to the next: the answer arrives, the chat is told', async () => {
    const { result, waits } = await withFallback(() => ({
      kind: 'error',
      status: 503,
      body: { error: 'down' },
    }));
    expect(result.result).toBe('Answered by the backup.');
    expect(backup?.requests.at(-1)?.body).toMatchObject({ model: 'backup-model' });
    expect(waits).toContainEqual(
      expect.objectContaining({
        nodeId: 'node-1',
        reason: 'fallback',
        fallback: { cause: 'failing (HTTP 503)', next: 'LM Studio backup-model' },
      }),
    );
    const stats = rig?.proxy.stats().providers;
    expect(stats?.find((p) => p.provider === 'openai')?.fallbacks).toBeGreaterThanOrEqual(1);
    expect(stats?.find((p) => p.provider === 'lmstudio')?.requests).toBeGreaterThanOrEqual(1);
  });

  it('a rate limit waited out longer than PROVIDER_FALLBACK_AFTER goes to the next provider instead', async () => {
    const started = Date.now();
    const { result, waits } = await withFallback(
      () => ({ kind: 'error', status: 429, headers: { 'retry-after': '15' }, body: { error: 'slow down' } }),
      { PROVIDER_FALLBACK_AFTER: '1' },
    );
    expect(result.result).toBe('Answered by the backup.');
    // Well before the 15 s the provider asked for (each of the CLI's requests waits at most ~1 s).
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(waits.map((wait) => wait.reason)).toContain('rate_limited');
    expect(waits).toContainEqual(
      expect.objectContaining({
        reason: 'fallback',
        fallback: expect.objectContaining({ cause: 'rate limited or busy for 1 s' }),
      }),
    );
  });

  it('a request the provider refuses as malformed (4xx) is not sent elsewhere', async () => {
    const { result } = await withFallback(() => ({
      kind: 'error',
      status: 400,
      body: { error: { message: 'bad request' } },
    }));
    expect(result.isError).toBe(true);
    expect(backup?.requests).toHaveLength(0);
  });
});

for (const cli of testedClis([OLDER_CLI_VERSION, NEWER_CLI_VERSION]))
  describe(`a provider whose tool calls arrive malformed (CLI ${cli.name})`, () => {
    it('twice in a row in one conversation: the next request goes to the next provider, which writes the file', async (context) => {
      const bin = cli.bin();
      if (bin === null) return context.skip();
      // Arguments cut off mid-string: no JSON parser makes a tool input of them.
      const broken = (): UpstreamReply =>
        toolCallReply([{ name: 'Write', arguments: '{"file_path": "out.txt", "content": "from the prim' }]);
      // The backup takes over after the CLI's two "could not be parsed as JSON" results, and makes a good call.
      backup = await startFakeUpstream((req) =>
        req.index === 0
          ? toolCallReply([
              { name: 'Write', arguments: { file_path: 'out.txt', content: 'from the backup\n' } },
            ])
          : textReply('Written by the backup.'),
      );
      const waits: ProviderWait[] = [];
      rig = await startRig(
        broken,
        { MODEL_FALLBACKS: 'lmstudio/backup-model', LM_STUDIO_BASE_URL: backup.url },
        { onProviderWait: (wait) => waits.push(wait) },
      );
      const result = await runClaude(
        rig.proxy.url,
        'write out.txt',
        { ANTHROPIC_CUSTOM_HEADERS: 'x-claude-relay-node: node-1' },
        bin,
      );
      expect(await readFile(join(result.cwd, 'out.txt'), 'utf8')).toBe('from the backup\n');
      expect(result.result).toBe('Written by the backup.');
      expect(rig.upstream.requests).toHaveLength(2);
      expect(waits).toContainEqual(
        expect.objectContaining({
          nodeId: 'node-1',
          reason: 'fallback',
          fallback: { cause: 'sending malformed tool calls twice', next: 'LM Studio backup-model' },
        }),
      );
      // Each request passed over counts in /stats (the Write call and the turn after it).
      expect(rig.proxy.stats().providers.find((p) => p.provider === 'openai')?.fallbacks).toBe(2);
    });
  });
