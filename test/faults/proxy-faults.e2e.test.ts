import { afterEach, describe, expect, it } from 'vitest';
import { type Script, textReply, type UpstreamReply } from '../fakes/openai-upstream.js';
import { type Rig, runClaude, startRig } from '../proxy/harness.js';
import { startTap } from '../proxy/tap.js';

// Two upstream faults as the real `claude` CLI lives them (the rest are covered at the HTTP surface in
// proxy-faults.test.ts, and breaks, 429s and 500s with the CLI in test/proxy/cli.e2e.test.ts).

let rig: Rig | undefined;
let tap: Awaited<ReturnType<typeof startTap>> | undefined;
afterEach(async () => {
  await tap?.close();
  await rig?.close();
  tap = undefined;
  rig = undefined;
});

async function run(script: Script, env: Record<string, string> = {}) {
  rig = await startRig(script, env);
  tap = await startTap(rig.proxy.url);
  return runClaude(tap.url, 'say something');
}

/** The main turn is the request with tools; side calls (title, quota) are answered normally. */
function isMainTurn(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'tools' in body;
}

describe('proxy faults with the real CLI', () => {
  it('an upstream that goes silent mid-answer: the read timeout fires, the CLI retries, the user gets the answer', async () => {
    let mainTurns = 0;
    const result = await run(
      (req) => {
        if (!isMainTurn(req.body)) return textReply('side call');
        mainTurns++;
        const reply = textReply('The complete answer after a silent provider.', { chunkSize: 6 });
        return mainTurns === 1 ? { ...reply, hangAfter: 3 } : reply;
      },
      { HTTP_READ_TIMEOUT: '1' },
    );
    expect(result.isError).toBe(false);
    expect(result.result).toBe('The complete answer after a silent provider.');
    expect(mainTurns).toBeGreaterThanOrEqual(2);
    tap?.assertStreams({ allowError: true });
    expect(rig?.proxy.stats().providers[0]).toMatchObject({ errors: 1 });
  });

  it('malformed SSE chunks from the provider do not reach the user; the answer is whole', async () => {
    const result = await run((req) => {
      const reply = textReply(isMainTurn(req.body) ? 'Clean text despite junk.' : 'side call', {
        chunkSize: 5,
      });
      if (reply.kind !== 'stream') return reply;
      const junk: UpstreamReply = {
        ...reply,
        chunks: reply.chunks.flatMap((chunk, i) =>
          i === 2 ? [chunk, 'data: {oops\n\n', 'nonsense\n\n'] : [chunk],
        ),
      };
      return junk;
    });
    expect(result.isError).toBe(false);
    expect(result.result).toBe('Clean text despite junk.');
    tap?.assertStreams();
    expect(rig?.proxy.stats().providers[0]?.malformedChunks).toBeGreaterThanOrEqual(2);
  });

  it('a provider stream of nothing but junk is counted as a provider error and retried; the user gets the answer', async () => {
    let mainTurns = 0;
    const result = await run((req) => {
      if (!isMainTurn(req.body)) return textReply('side call');
      mainTurns++;
      return mainTurns === 1
        ? { kind: 'stream', chunks: ['data: {oops\n\n', 'data: {"id":"x","object":"nonsense"}\n\n'] }
        : textReply('The answer on the second try.');
    });
    expect(result.isError).toBe(false);
    expect(result.result).toBe('The answer on the second try.');
    expect(mainTurns).toBe(2);
    tap?.assertStreams({ allowError: true });
    expect(rig?.proxy.stats().providers[0]).toMatchObject({ errors: 1 });
  });
});
