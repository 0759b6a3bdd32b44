import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageRef, NodeSnapshot, ProgressEvent, SessionEngine } from '../../sessions/types.js';
import { startFakeUpstream } from '../fakes/openai-upstream.js';
import { type E2eRig, echoScript, finishedNode, startE2eRig } from './e2e-rig.js';

/** Alive and not a zombie waiting to be reaped. */
const isAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

// The engine driving the real `claude` CLI through the embedded proxy to a scripted upstream.

let rig: E2eRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

let counter = 0;
const ref = (): MessageRef => ({ platform: 'e2e', chatId: 'c', messageId: `m${++counter}` });

async function submit(engine: SessionEngine, prompt: string, replyTo: MessageRef | null = null) {
  const origin = ref();
  const result = await engine.submit({ prompt, origin, replyTo });
  if (result.kind !== 'accepted') throw new Error(result.reason);
  return { node: result.node, origin };
}

const answer = (node: NodeSnapshot): string => (node.outcome?.kind === 'done' ? node.outcome.text : '');

describe('session engine with the real CLI', () => {
  it('two trees in parallel; a fork carries its parent history and not its sibling', async () => {
    rig = await startE2eRig(await startFakeUpstream(echoScript));
    const engine = rig.engine();
    await engine.start();
    const [one, two] = await Promise.all([
      submit(engine, 'remember WORD-ALPHA'),
      submit(engine, 'remember WORD-ZULU'),
    ]);
    expect([one.node.state, two.node.state]).toEqual(['running', 'running']);
    const [rootOne, rootTwo] = await Promise.all([
      finishedNode(engine, one.node.id),
      finishedNode(engine, two.node.id),
    ]);
    expect(answer(rootOne)).toBe('seen: WORD-ALPHA');
    expect(answer(rootTwo)).toBe('seen: WORD-ZULU');

    const a = await submit(engine, 'now WORD-BRAVO', one.origin);
    const doneA = await finishedNode(engine, a.node.id);
    const b = await submit(engine, 'now WORD-CHARLIE', one.origin);
    const doneB = await finishedNode(engine, b.node.id);
    expect(answer(doneA)).toBe('seen: WORD-ALPHA WORD-BRAVO');
    expect(answer(doneB)).toBe('seen: WORD-ALPHA WORD-CHARLIE');
    expect(doneB.forkOf).toBe(rootOne.sessionId);
    expect(new Set([rootOne.sessionId, doneA.sessionId, doneB.sessionId]).size).toBe(3);
  });

  it('stop mid-stream: the process is gone when stop returns and the node says stopped', async () => {
    rig = await startE2eRig(await startFakeUpstream(echoScript));
    const engine = rig.engine();
    await engine.start();
    const { node, origin } = await submit(engine, 'please WORD-SLOW');
    await new Promise<void>((resolveText) => {
      const off = engine.subscribe((n, event) => {
        if (n.id === node.id && event.type === 'text') {
          off();
          resolveText();
        }
      });
    });
    expect(rig.cliPids().length).toBeGreaterThan(0);
    const { stopped } = await engine.stop({ kind: 'message', ref: origin });
    expect(stopped.map((n) => n.id)).toEqual([node.id]);
    expect(rig.cliPids()).toEqual([]);
    const after = engine.getNode(node.id);
    expect(after?.state).toBe('stopped');
    expect(after?.outcome?.kind === 'stopped' && after.outcome.partialText).toMatch(/^slow/);
  });

  it('12 tasks with maxSessions 10 never run more than 10 CLIs and all finish', async () => {
    // Every answer is held until all twelve are submitted, so none can finish early on a slow machine.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    rig = await startE2eRig(
      await startFakeUpstream((req) => {
        const reply = echoScript(req);
        return reply.kind === 'stream' ? { ...reply, pause: { after: 1, until: gate } } : reply;
      }),
    );
    const engine = rig.engine({ maxSessions: 10 });
    await engine.start();
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rig?.cliPids(process.pid).length ?? 0);
    }, 25);
    const nodes = [];
    for (let i = 0; i < 12; i++) nodes.push((await submit(engine, `task WORD-T${'ABCDEFGHIJKL'[i]}`)).node);
    expect(engine.stats()).toMatchObject({ running: 10, queued: 2 });
    await vi.waitFor(() => expect(peak).toBe(10), { timeout: 60_000, interval: 50 });
    release();
    const finished = await Promise.all(nodes.map((node) => finishedNode(engine, node.id)));
    clearInterval(sampler);
    expect(finished.map((node) => node.state)).toEqual(Array(12).fill('done'));
    expect(peak).toBe(10);
  });
});

describe('restart after kill -9 of the engine process', () => {
  it('ends the CLI it left running, leaves every node truthful, requeues the queued one, and a reply still forks', async () => {
    const { execa } = await import('execa');
    const { createInterface } = await import('node:readline');
    rig = await startE2eRig(await startFakeUpstream(echoScript));
    const config = rig.sessionsConfig({ maxSessions: 1 });
    // `node --import tsx` keeps the engine in one process, so SIGKILL hits the engine itself.
    const child = execa(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./engine-child.ts', import.meta.url).pathname,
        JSON.stringify({ config, proxyUrl: rig.proxy.url, childEnv: rig.childEnv }),
      ],
      { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', reject: false, buffer: false },
    );
    const lines = createInterface({ input: child.stdout });
    const nodes = new Map<string, NodeSnapshot>();
    const submitted: NodeSnapshot[] = [];
    const origins = [ref(), ref(), ref()];
    const send = (prompt: string, origin: MessageRef) =>
      child.stdin.write(`${JSON.stringify({ prompt, origin, replyTo: null })}\n`);
    let slowRunning = false;
    for await (const line of lines) {
      const message = JSON.parse(line);
      if (message.kind === 'ready') send('remember WORD-ALPHA', origins[0] as MessageRef);
      if (message.kind === 'submitted') submitted.push(message.result.node);
      if (message.kind !== 'event') continue;
      nodes.set(message.node.id, message.node);
      if (message.node.prompt.includes('ALPHA') && message.event.type === 'outcome') {
        send('long WORD-SLOW', origins[1] as MessageRef);
        send('later WORD-QUEUED', origins[2] as MessageRef);
      }
      if (message.node.prompt.includes('SLOW') && message.event.type === 'text' && submitted.length === 3) {
        slowRunning = true;
        child.kill('SIGKILL');
        break;
      }
    }
    await child;
    expect(slowRunning).toBe(true);
    // The gap this guards: with its engine gone, the CLI keeps working in the workspace.
    const orphans = rig.cliPids();
    expect(orphans.length).toBeGreaterThan(0);

    const engine = rig.engine({ maxSessions: 1 });
    const { interrupted } = await engine.start();
    expect(orphans.filter(isAlive)).toEqual([]);
    expect(interrupted[0]?.outcome).toMatchObject({
      kind: 'interrupted',
      reason: expect.stringMatching(/Its Claude process, still running, was stopped\. Reply to it/),
    });
    const [alpha, slow, queued] = origins.map((origin) => engine.findNodeByMessage(origin));
    expect(alpha?.state).toBe('done');
    expect(interrupted.map((node) => node.id)).toEqual([slow?.id]);
    expect(slow?.outcome?.kind).toBe('interrupted');
    expect(slow?.sessionId).toBeTruthy();
    const doneQueued = await finishedNode(engine, queued?.id ?? '');
    expect(answer(doneQueued)).toBe('seen: WORD-QUEUED');

    const reply = await submit(engine, 'and WORD-BRAVO', origins[0] as MessageRef);
    const doneReply = await finishedNode(engine, reply.node.id);
    expect(doneReply.forkOf).toBe(alpha?.sessionId);
    expect(answer(doneReply)).toBe('seen: WORD-ALPHA WORD-BRAVO');
  });

  it('a provider 429 the proxy waits out reaches the task as a provider_wait event, then the answer', async () => {
    rig = await startE2eRig(
      await startFakeUpstream((req) =>
        req.index === 0 ? { kind: 'error', status: 429, headers: { 'retry-after': '1' } } : echoScript(req),
      ),
    );
    const engine = rig.engine();
    await engine.start();
    const seen: Array<{ nodeId: string; event: ProgressEvent }> = [];
    engine.subscribe((n, event) => seen.push({ nodeId: n.id, event }));
    const { node } = await submit(engine, 'remember WORD-PATIENT');
    const done = await finishedNode(engine, node.id);
    const events = seen.filter((item) => item.nodeId === node.id).map((item) => item.event);
    expect(answer(done)).toBe('seen: WORD-PATIENT');
    const waits = events.filter((event) => event.type === 'provider_wait');
    expect(waits).toEqual([
      {
        type: 'provider_wait',
        provider: 'openai',
        label: 'the provider',
        reason: 'rate_limited',
        delayMs: expect.any(Number),
        attempt: 1,
        maxRetries: 3,
      },
      {
        type: 'provider_wait',
        provider: 'openai',
        label: 'the provider',
        reason: 'over',
        delayMs: null,
        attempt: null,
        maxRetries: null,
      },
    ]);
    // Told before the answer started, not after.
    expect(events.findIndex((event) => event.type === 'provider_wait')).toBeLessThan(
      events.findIndex((event) => event.type === 'text'),
    );
  });
});
