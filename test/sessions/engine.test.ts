import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '../../sessions/types.js';
import { createLogger } from '../../src/log.js';
import { createHarness, type Harness, nextId, ref, submitOk } from './harness.js';

const open: Harness[] = [];
const harness = (...args: Parameters<typeof createHarness>): Harness => {
  const made = createHarness(...args);
  open.push(made);
  return made;
};
afterEach(async () => {
  for (const made of open.splice(0).reverse()) await made.cleanup();
});

const startArgs = (h: Harness) => h.fakeLog().filter((entry) => entry.event === 'start');

describe('session engine with a replay CLI', () => {
  it("reports the CLI's cost only with its own backend: through the proxy it would price the wrong model", async () => {
    const own = harness({ backend: 'anthropic' });
    await own.engine.start();
    const viaOwn = await own.finished((await submitOk(own.engine, 'say hi')).node.id);
    expect(viaOwn.costUsd).toBeGreaterThan(0);
    const proxied = harness();
    await proxied.engine.start();
    const viaProxy = await proxied.finished((await submitOk(proxied.engine, 'say hi')).node.id);
    expect(viaProxy.costUsd).toBe(0);
    expect(viaProxy.usage.outputTokens).toBe(viaOwn.usage.outputTokens);
  });

  it('runs a task: running, streamed text, outcome, done, with session id and usage stored', async () => {
    const h = harness();
    await h.engine.start();
    const { node } = await submitOk(h.engine, 'say hi');
    const done = await h.finished(node.id);
    expect(done.state).toBe('done');
    expect(done.outcome).toEqual({ kind: 'done', text: 'Hi! This is the mock model.' });
    expect(done.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(done.usage.outputTokens).toBe(7);
    const mine = h.events.filter((item) => item.node.id === node.id).map((item) => item.event);
    expect(mine[0]).toEqual({ type: 'state', state: 'running', queuePosition: null });
    expect(
      mine
        .filter((e) => e.type === 'text')
        .map((e) => e.text)
        .join(''),
    ).toBe('Hi! This is the mock model.');
    expect(mine.at(-2)?.type).toBe('outcome');
    expect(mine.at(-1)).toEqual({ type: 'state', state: 'done', queuePosition: null });
    const [start] = startArgs(h);
    expect(start?.prompt).toBe('say hi');
    expect(start?.cwd).toBe(done.workingDirectory);
    expect(start?.args).not.toContain('--resume');
  });

  it('a reply to any message of a node forks that node; siblings fork the same parent', async () => {
    const h = harness();
    await h.engine.start();
    const root = await submitOk(h.engine, 'first');
    const parent = await h.finished(root.node.id);
    const status = ref(nextId());
    await h.engine.linkMessage(parent.id, status, 'status');
    const a = await submitOk(h.engine, 'branch a', status);
    const b = await submitOk(h.engine, 'branch b', root.origin);
    expect(a.forkedFrom?.id).toBe(parent.id);
    expect(b.node.treeId).toBe(parent.treeId);
    const [doneA, doneB] = await Promise.all([h.finished(a.node.id), h.finished(b.node.id)]);
    const forks = startArgs(h).filter((entry) => entry.args?.includes('--fork-session'));
    expect(forks).toHaveLength(2);
    for (const entry of forks) {
      expect(entry.args?.slice(-3)).toEqual(['--resume', parent.sessionId, '--fork-session']);
      expect(entry.cwd).toBe(parent.workingDirectory);
    }
    expect(doneA.forkOf).toBe(parent.sessionId);
    expect(new Set([parent.sessionId, doneA.sessionId, doneB.sessionId]).size).toBe(3);
    const continuation = ref(nextId());
    await h.engine.linkMessage(doneA.id, continuation, 'continuation');
    expect(h.engine.findNodeByMessage(continuation)?.id).toBe(doneA.id);
  });

  it('a reply to a running node waits for it, then forks its final session', async () => {
    const h = harness();
    await h.engine.start();
    const parent = await submitOk(h.engine, 'slow one [fake:delay=40]');
    const child = await submitOk(h.engine, 'follow-up', parent.origin);
    expect(child.node.state).toBe('queued');
    expect(child.forkedFrom?.id).toBe(parent.node.id);
    const doneChild = await h.finished(child.node.id);
    const doneParent = h.engine.getNode(parent.node.id);
    const log = h.fakeLog();
    const parentEnd = log.findIndex((entry) => entry.event === 'end');
    const childStart = log.findIndex((entry) => entry.event === 'start' && entry.prompt === 'follow-up');
    expect(parentEnd).toBeLessThan(childStart);
    expect(doneChild.forkOf).toBe(doneParent?.sessionId);
  });

  it('runs at most maxSessions CLIs, FIFO, and tells queued nodes their position', async () => {
    const h = harness({ maxSessions: 2 });
    await h.engine.start();
    // The first two hold until all five are in, so none can finish early on a slow machine.
    const gate = join(h.dir, 'all-submitted');
    const nodes: NodeSnapshot[] = [];
    for (let i = 0; i < 5; i++) {
      nodes.push((await submitOk(h.engine, `task ${i} [fake:delay=15] [fake:wait-file=${gate}]`)).node);
    }
    expect(nodes.map((node) => node.state)).toEqual(['running', 'running', 'queued', 'queued', 'queued']);
    expect(h.engine.stats()).toMatchObject({ running: 2, queued: 3, maxSessions: 2 });
    writeFileSync(gate, '');
    const finished = await Promise.all(nodes.map((node) => h.finished(node.id)));
    expect(finished.every((node) => node.state === 'done')).toBe(true);
    let live = 0;
    let peak = 0;
    for (const entry of h.fakeLog()) {
      live += entry.event === 'start' ? 1 : -1;
      peak = Math.max(peak, live);
    }
    expect(peak).toBe(2);
    const started = h.events.filter((item) => item.event.type === 'state' && item.event.state === 'running');
    expect(started.map((item) => item.node.prompt.slice(0, 6))).toEqual([
      'task 0',
      'task 1',
      'task 2',
      'task 3',
      'task 4',
    ]);
    const positions = h.events
      .filter((item) => item.node.id === nodes[4]?.id && item.event.type === 'state')
      .map((item) => (item.event.type === 'state' ? item.event.queuePosition : null));
    // Two sessions can end in the same tick and move the queue two places at once, so the exact steps vary;
    // what the user must see is the first position, then only smaller ones, then the start.
    const waiting = positions.filter((position): position is number => position !== null);
    expect(waiting[0]).toBe(3);
    expect(waiting.every((position, at) => at === 0 || position < (waiting[at - 1] ?? 0))).toBe(true);
    expect(positions.at(waiting.length)).toBeNull();
  });

  it('stop: a running node ends as stopped, a queued one never starts; others go on', async () => {
    const h = harness({ maxSessions: 1 });
    await h.engine.start();
    const running = await submitOk(h.engine, 'wait [fake:hang]');
    const queued = await submitOk(h.engine, 'never runs');
    const later = await submitOk(h.engine, 'runs after');
    while (startArgs(h).length === 0) await new Promise((r) => setTimeout(r, 20));
    const stoppedQueued = await h.engine.stop({ kind: 'message', ref: queued.origin });
    expect(stoppedQueued.stopped.map((node) => node.id)).toEqual([queued.node.id]);
    const result = await h.engine.stop({ kind: 'message', ref: running.origin });
    expect(result.stopped.map((node) => node.id)).toEqual([running.node.id]);
    expect(h.engine.getNode(running.node.id)).toMatchObject({
      state: 'stopped',
      outcome: { kind: 'stopped' },
    });
    expect((await h.finished(later.node.id)).state).toBe('done');
    expect(h.engine.getNode(queued.node.id)?.state).toBe('stopped');
    expect(startArgs(h).map((entry) => entry.prompt)).toEqual(['wait [fake:hang]', 'runs after']);
    expect((await h.engine.stop({ kind: 'message', ref: ref('nobody') })).stopped).toEqual([]);
  });

  it('stop escalates to SIGKILL for a CLI that ignores SIGINT and SIGTERM', async () => {
    const h = harness();
    await h.engine.start();
    const { node, origin } = await submitOk(h.engine, 'stubborn [fake:stubborn]');
    while (startArgs(h).length === 0) await new Promise((r) => setTimeout(r, 20));
    await h.engine.stop({ kind: 'all' });
    expect(h.engine.getNode(node.id)?.outcome?.kind).toBe('stopped');
    expect(h.engine.findNodeByMessage(origin)?.state).toBe('stopped');
  });

  it('a CLI silent for longer than the idle limit is stopped as timed out', async () => {
    const h = harness({ idleTimeoutMs: 400 });
    await h.engine.start();
    const { node } = await submitOk(h.engine, 'silent [fake:hang]');
    const done = await h.finished(node.id);
    expect(done.state).toBe('stopped');
    expect(done.outcome).toMatchObject({ kind: 'timed_out', idleMs: 400 });
  });

  it('clear a branch: the node and its descendants go, parents and siblings stay', async () => {
    const h = harness();
    await h.engine.start();
    const root = await submitOk(h.engine, 'root');
    await h.finished(root.node.id);
    const a = await submitOk(h.engine, 'a', root.origin);
    const b = await submitOk(h.engine, 'b', root.origin);
    await h.finished(a.node.id);
    const a1 = await submitOk(h.engine, 'a1 [fake:hang]', a.origin);
    await h.finished(b.node.id);
    const { removed } = await h.engine.clear({ kind: 'message', ref: a.origin });
    expect(removed.map((node) => node.id).sort()).toEqual([a.node.id, a1.node.id].sort());
    expect(h.engine.findNodeByMessage(a.origin)).toBeUndefined();
    expect(h.engine.getNode(a1.node.id)).toBeUndefined();
    expect(h.engine.getNode(b.node.id)?.state).toBe('done');
    expect(h.engine.stats()).toMatchObject({ totalNodes: 2, running: 0, trees: 1 });
    expect((await h.engine.clear({ kind: 'all' })).removed).toHaveLength(2);
    expect(h.engine.stats().totalNodes).toBe(0);
  });

  it('a restart: running nodes become interrupted and still fork, queued ones run, nothing is lost', async () => {
    const first = harness({ maxSessions: 1 });
    await first.engine.start();
    const done = await submitOk(first.engine, 'done before');
    await first.finished(done.node.id);
    const hanging = await submitOk(first.engine, 'cut off [fake:hang]');
    const waiting = await submitOk(first.engine, 'still queued');
    while (first.engine.getNode(hanging.node.id)?.sessionId === null)
      await new Promise((r) => setTimeout(r, 20));
    await first.engine.close();

    const second = first.reopen({ maxSessions: 1 });
    open.push(second);
    const { interrupted } = await second.engine.start();
    expect(interrupted.map((node) => node.id)).toEqual([hanging.node.id]);
    expect(interrupted[0]?.outcome?.kind).toBe('interrupted');
    expect(interrupted[0]?.sessionId).toBe(first.engine.getNode(hanging.node.id)?.sessionId);
    expect((await second.finished(waiting.node.id)).state).toBe('done');
    expect(second.engine.getNode(done.node.id)?.state).toBe('done');
    const reply = await submitOk(second.engine, 'go on', hanging.origin);
    expect(reply.forkedFrom?.id).toBe(hanging.node.id);
    expect((await second.finished(reply.node.id)).forkOf).toBe(interrupted[0]?.sessionId);
  });
});

describe('API requests across a restart', () => {
  it('a queued API request is interrupted at the next start (its client is gone); a queued chat task runs', async () => {
    const first = harness({ maxSessions: 1 });
    await first.engine.start();
    const hanging = await submitOk(first.engine, 'busy [fake:hang]');
    while (first.engine.getNode(hanging.node.id)?.sessionId === null)
      await new Promise((r) => setTimeout(r, 20));
    const api = await first.engine.submit({
      prompt: 'from an API client',
      origin: ref(nextId(), 'api'),
      replyTo: null,
      priority: 'normal',
      run: { model: 'sonnet', maxTurns: 3 },
    });
    if (api.kind !== 'accepted') throw new Error('rejected');
    const chat = await submitOk(first.engine, 'from a chat');
    await first.engine.close();

    const second = first.reopen({ maxSessions: 1 });
    open.push(second);
    await second.engine.start();
    expect(second.engine.getNode(api.node.id)).toMatchObject({
      state: 'interrupted',
      outcome: { kind: 'interrupted', reason: 'The relay restarted before this API request could run.' },
      run: { model: 'sonnet', maxTurns: 3 },
    });
    expect((await second.finished(chat.node.id)).state).toBe('done');
    expect(second.fakeLog().filter((entry) => entry.prompt === 'from an API client')).toEqual([]);
  });
});

describe('bad input', () => {
  it('an empty prompt and a repeated message are rejected with a reason', async () => {
    const h = harness();
    await h.engine.start();
    const empty = await h.engine.submit({ prompt: '  \n ', origin: ref(nextId()), replyTo: null });
    expect(empty).toEqual({ kind: 'rejected', reason: expect.stringMatching(/empty/) });
    const first = await submitOk(h.engine, 'once');
    const again = await h.engine.submit({ prompt: 'once', origin: first.origin, replyTo: null });
    expect(again.kind).toBe('rejected');
    expect(h.engine.stats().totalNodes).toBe(1);
  });

  it('a reply to an unknown message starts a new conversation', async () => {
    const h = harness();
    await h.engine.start();
    const result = await submitOk(h.engine, 'hello', ref('never-seen'));
    expect(result.forkedFrom).toBeNull();
    expect(result.node.parentId).toBeNull();
    expect(result.node.treeId).toBe(result.node.id);
    expect((await h.finished(result.node.id)).state).toBe('done');
  });

  it('a 100 KB prompt reaches the CLI whole', async () => {
    const h = harness();
    await h.engine.start();
    const prompt = `${'x'.repeat(100 * 1024)} end`;
    const { node } = await submitOk(h.engine, prompt);
    expect((await h.finished(node.id)).state).toBe('done');
    expect(startArgs(h)[0]?.promptLength).toBe(prompt.length);
  });

  it('a CLI that exits at once is reported as crashed with its stderr, and the engine keeps serving', async () => {
    const h = harness();
    await h.engine.start();
    const { node } = await submitOk(h.engine, 'die [fake:exit-now]');
    expect((await h.finished(node.id)).outcome).toEqual({
      kind: 'crashed',
      exitCode: 3,
      signal: null,
      detail: 'fake cli: failed at once',
    });
    const next = await submitOk(h.engine, 'fine');
    expect((await h.finished(next.node.id)).state).toBe('done');
  });

  it('a CLI binary that does not exist: said in the log at start, an error outcome per task, the engine keeps serving', async () => {
    const lines: string[] = [];
    const h = harness(
      { claudeBin: '/nonexistent/claude' },
      { logger: createLogger('info', [], { write: (line) => lines.push(line) }) },
    );
    expect((await h.engine.start()).cli).toEqual({
      ok: false,
      problem: 'CLAUDE_BIN /nonexistent/claude cannot be run (ENOENT)',
    });
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: expect.stringMatching(/^CLAUDE_BIN \/nonexistent\/claude cannot be run/),
      }),
    );
    const first = await submitOk(h.engine, 'one');
    const done = await h.finished(first.node.id);
    expect(done.state).toBe('error');
    expect(done.outcome).toMatchObject({
      kind: 'error',
      message: expect.stringMatching(/Could not start the Claude CLI/),
    });
    const second = await submitOk(h.engine, 'two');
    expect((await h.finished(second.node.id)).state).toBe('error');
    expect(h.engine.stats()).toMatchObject({ errors: 2, running: 0 });
  });

  it('a CLAUDE_BIN that is not Claude Code is named as such at start', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'impostor-cli-'));
    const notClaude = join(scratch, 'claude');
    writeFileSync(notClaude, "#!/usr/bin/env node\nconsole.log('some other tool 1.0\\nline two');\n", {
      mode: 0o755,
    });
    const impostor = harness({ claudeBin: notClaude });
    expect((await impostor.engine.start()).cli).toEqual({
      ok: false,
      problem: `CLAUDE_BIN ${notClaude} does not look like Claude Code: \`--version\` printed "some other tool 1.0"`,
    });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a CLI version the relay was never tested with runs, with a warning naming it', async () => {
    const lines: string[] = [];
    const h = harness(
      {},
      {
        logger: createLogger('info', [], { write: (line) => lines.push(line) }),
        childEnv: { FAKE_CLI_VERSION: '9.9.9' },
      },
    );
    expect((await h.engine.start()).cli).toEqual({ ok: true, version: '9.9.9', tested: false });
    const warning = lines.map((line) => JSON.parse(line)).find((entry) => entry.version === '9.9.9');
    expect(warning).toMatchObject({
      level: 40,
      msg: expect.stringContaining('Claude Code 9.9.9 has not been tested'),
    });
    const run = await submitOk(h.engine, 'still works');
    expect((await h.finished(run.node.id)).state).toBe('done');
  });

  it('a listener that throws does not break the run', async () => {
    const h = harness();
    await h.engine.start();
    h.engine.subscribe(() => {
      throw new Error('renderer bug');
    });
    const { node } = await submitOk(h.engine, 'hi');
    expect((await h.finished(node.id)).state).toBe('done');
  });
});
