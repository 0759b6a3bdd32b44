import { chmodSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { scanProcesses } from '../../sessions/leftover-processes.js';
import { createLogger } from '../../src/log.js';
import { createHarness, fakeCliConfig, type Harness, nextId, ref, submitOk } from '../sessions/harness.js';
import {
  alive,
  type ChildMessage,
  type EngineProcess,
  nodeOf,
  startEngineProcess,
  storedNode,
  until,
  userText,
} from './sessions-rig.js';

// Faults around the session engine, driven as a platform drives it, with the replay fake CLI. For each: what the
// user would read, that the engine goes on serving, and that no task, message link or session is lost.

const open: Harness[] = [];
const children: EngineProcess[] = [];
const harness = (...args: Parameters<typeof createHarness>): Harness => {
  const made = createHarness(...args);
  open.push(made);
  return made;
};
afterEach(async () => {
  for (const child of children.splice(0)) child.exit.kill('SIGKILL');
  const dirs = open.map((made) => made.dir);
  for (const made of open.splice(0).reverse()) await made.cleanup();
  // No process of a task may outlive the test: end any left and fail.
  const left = scanProcesses(process.pid).filter((proc) => {
    try {
      return dirs.some((dir) => readlinkSync(`/proc/${proc.pid}/cwd`).startsWith(dir));
    } catch {
      return false;
    }
  });
  for (const proc of left) process.kill(proc.pid, 'SIGKILL');
  expect(left.map((proc) => proc.pid)).toEqual([]);
});

const starts = (h: Harness) => h.fakeLog().filter((entry) => entry.event === 'start');
const childPids = (h: Harness): number[] =>
  h.fakeLog().flatMap((entry) => {
    const childPid: unknown = Reflect.get(entry, 'childPid');
    return typeof childPid === 'number' ? [childPid] : [];
  });

describe('the claude process dies or hangs', () => {
  it('killed with -9 mid-task: crashed (SIGKILL) and said so, its tools go too, the queue moves on, a reply still forks', async () => {
    const h = harness({ maxSessions: 1 });
    await h.engine.start();
    const victim = await submitOk(h.engine, 'work [fake:spawn-child] [fake:hang]');
    const next = await submitOk(h.engine, 'next in line');
    expect(next.node.state).toBe('queued');
    await until(() => h.engine.getNode(victim.node.id)?.sessionId !== null && childPids(h).length === 1);
    const [cli] = starts(h);
    const [tool] = childPids(h);
    process.kill(cli?.pid ?? -1, 'SIGKILL');

    const crashed = await h.finished(victim.node.id);
    expect(crashed.state).toBe('error');
    expect(crashed.outcome).toEqual({
      kind: 'crashed',
      exitCode: null,
      signal: 'SIGKILL',
      detail: 'The Claude CLI exited without a result.',
    });
    expect(userText(h.events, crashed)).toMatch(/The Claude process ended unexpectedly \(signal SIGKILL\)/);
    await until(() => !alive(tool ?? -1));
    expect((await h.finished(next.node.id)).state).toBe('done');
    expect(h.engine.stats()).toMatchObject({ errors: 1, running: 0, queued: 0 });

    const reply = await submitOk(h.engine, 'carry on', victim.origin);
    expect(reply.forkedFrom?.id).toBe(victim.node.id);
    const continued = await h.finished(reply.node.id);
    expect(continued.state).toBe('done');
    expect(continued.forkOf).toBe(crashed.sessionId);
    expect(starts(h).at(-1)?.args?.slice(-3)).toEqual(['--resume', crashed.sessionId, '--fork-session']);
  });

  it('hanging silently: CLI_IDLE_TIMEOUT stops it, its whole process group goes, outcome timed_out', async () => {
    const h = harness({ idleTimeoutMs: 400 });
    await h.engine.start();
    const { node } = await submitOk(h.engine, 'silent [fake:spawn-child] [fake:hang]');
    const done = await h.finished(node.id);
    expect(done.state).toBe('stopped');
    expect(done.outcome).toMatchObject({ kind: 'timed_out', idleMs: 400 });
    expect(userText(h.events, done)).toMatch(/Stopped: no output for/);
    // The tool it started ignores SIGINT and SIGTERM: only the group SIGKILL after the CLI's exit ends it.
    const [cli] = starts(h);
    const [tool] = childPids(h);
    expect(tool).toBeDefined();
    await until(() => !alive(cli?.pid ?? -1) && !alive(tool ?? -1));
    const after = await submitOk(h.engine, 'still serving');
    expect((await h.finished(after.node.id)).state).toBe('done');
  });

  it('garbage lines around a good run: the answer stands, the lines are logged with their count', async () => {
    const logged: string[] = [];
    const h = harness({}, { logger: createLogger('warn', [], { write: (line) => logged.push(line) }) });
    await h.engine.start();
    const { node } = await submitOk(h.engine, 'noisy [fake:garbage]');
    const done = await h.finished(node.id);
    expect(done.outcome).toEqual({ kind: 'done', text: 'Hi! This is the mock model.' });
    expect(userText(h.events, done)).toBe('Hi! This is the mock model.');
    const warning = logged
      .map((line) => JSON.parse(line))
      .find((entry) => entry.msg === 'CLI printed non-event lines');
    expect(warning).toMatchObject({ nodeId: node.id, count: 3 });
    expect(warning.lines[0]).toBe('Warning: something odd happened (not JSON)');
  });

  it('a JSON line cut off at exit: crashed with the exit code, the cut line kept as the detail the user reads', async () => {
    const h = harness();
    await h.engine.start();
    const { node, origin } = await submitOk(h.engine, 'cut [fake:truncate-exit=1]');
    const done = await h.finished(node.id);
    expect(done.state).toBe('error');
    expect(done.outcome).toMatchObject({ kind: 'crashed', exitCode: 1, signal: null });
    const detail = done.outcome?.kind === 'crashed' ? done.outcome.detail : '';
    // The first 60 characters of the recorded result line, which is not valid JSON on its own.
    expect(detail).toMatch(/^\{"duration_api_ms":\d+,"stop_reason":"end_turn"/);
    expect(() => JSON.parse(detail)).toThrow();
    const text = userText(h.events, done);
    expect(text).toMatch(/ended unexpectedly \(exit code 1\)/);
    expect(text).toContain('"stop_reason":"end_turn"');
    // The session it reported at its start is kept: a reply continues it.
    const reply = await submitOk(h.engine, 'again', origin);
    expect((await h.finished(reply.node.id)).forkOf).toBe(done.sessionId);
  });
});

describe('the relay is killed with -9 mid-task', () => {
  it('on restart: queued re-queued, running interrupted with its leftover CLI and tools ended, links kept', async () => {
    const first = harness({ maxSessions: 1 });
    const dir = first.dir;
    const config = fakeCliConfig(dir, { maxSessions: 1 });
    const child = startEngineProcess({ dir, config });
    children.push(child);
    const origins = [ref(nextId()), ref(nextId()), ref(nextId())];
    const [doneOrigin, runningOrigin, queuedOrigin] = origins as [
      (typeof origins)[0],
      (typeof origins)[0],
      (typeof origins)[0],
    ];
    const isOutcome = (prompt: string) => (m: ChildMessage) =>
      m.kind === 'event' && m.node.prompt === prompt && m.event.type === 'outcome';
    await child.waitFor((m) => m.kind === 'ready');
    child.send({ prompt: 'finished first', origin: doneOrigin, replyTo: null });
    await child.waitFor(isOutcome('finished first'));
    child.send({ prompt: 'long [fake:spawn-child] [fake:hang]', origin: runningOrigin, replyTo: null });
    child.send({ prompt: 'waits its turn', origin: queuedOrigin, replyTo: null });
    const started = await child.waitFor(
      (m) => m.kind === 'event' && m.node.prompt.startsWith('long') && m.event.type === 'state',
    );
    const runningId = started.kind === 'event' ? started.node.id : '';
    // Killed only once the store holds its session id, as it does a moment after the CLI's first line.
    while (!(await storedNode(config, runningId))?.sessionId) await new Promise((r) => setTimeout(r, 20));
    const status = ref(nextId());
    child.send({ op: 'link', nodeId: runningId, ref: status, role: 'status' });
    await child.waitFor((m) => m.kind === 'linked');
    await child.waitFor(
      (m) =>
        m.kind === 'submitted' && m.result.kind === 'accepted' && m.result.node.prompt === 'waits its turn',
    );
    await until(() => childPids(first).length === 1);
    const [cli] = starts(first).filter((entry) => entry.prompt?.startsWith('long'));
    const [tool] = childPids(first);

    child.exit.kill('SIGKILL');
    await child.exit;
    // The gap this guards: with the relay gone, its CLI and the CLI's tools keep running.
    expect([alive(cli?.pid ?? -1), alive(tool ?? -1)]).toEqual([true, true]);

    const second = first.reopen({ maxSessions: 1 });
    open.push(second);
    const { interrupted } = await second.engine.start();
    expect([alive(cli?.pid ?? -1), alive(tool ?? -1)]).toEqual([false, false]);
    expect(interrupted.map((node) => node.id)).toEqual([runningId]);
    const cut = nodeOf(second.engine, runningOrigin);
    expect(cut.state).toBe('interrupted');
    expect(userText([], cut)).toMatch(
      /relay restarted while this task was running\. Its Claude process, still running, was stopped\. Reply to it/,
    );
    expect(nodeOf(second.engine, status).id).toBe(runningId);
    expect(nodeOf(second.engine, doneOrigin).state).toBe('done');
    const queued = nodeOf(second.engine, queuedOrigin);
    expect((await second.finished(queued.id)).state).toBe('done');
    expect(second.engine.stats()).toMatchObject({ totalNodes: 3, byState: { done: 2, interrupted: 1 } });

    const reply = await submitOk(second.engine, 'go on', status);
    expect(reply.forkedFrom?.id).toBe(runningId);
    expect((await second.finished(reply.node.id)).forkOf).toBe(cut.sessionId);
  });

  it('a process that reused the recorded pid is never touched', async () => {
    const { endLeftovers, readCliProcessRecord } = await import('../../sessions/leftover-processes.js');
    const { execa } = await import('execa');
    // Detached like our CLIs, so it leads its own group.
    const bystander = execa(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], {
      reject: false,
      detached: true,
    });
    const pid = bystander.pid ?? -1;
    const record = readCliProcessRecord(pid);
    expect(record).not.toBeNull();
    if (record === null) return;
    // Same pid and group, another start time: what a reused pid looks like.
    const result = await endLeftovers('some-node', { ...record, startTime: record.startTime - 1 });
    expect(result).toEqual({ ended: 0, remaining: 0 });
    expect(alive(pid)).toBe(true);
    // Another boot with the same start time is someone else too.
    expect(await endLeftovers('some-node', { ...record, bootId: 'another-boot' })).toEqual({
      ended: 0,
      remaining: 0,
    });
    expect(alive(pid)).toBe(true);
    // The exact record is ours.
    expect(await endLeftovers('some-node', record)).toEqual({ ended: 1, remaining: 0 });
    expect((await bystander).signal).toBe('SIGKILL');
  });
});

describe('the session store stops accepting writes', () => {
  it('while running: new tasks refused with the reason, running ones finish and report, all written once it recovers', async () => {
    const h = harness({}, { storeBusyTimeoutMs: 100, storeRetryMs: 100 });
    await h.engine.start();
    const gate = join(h.dir, 'gate');
    const running = await submitOk(h.engine, `until the gate [fake:wait-file=${gate}]`);
    await until(() => h.engine.getNode(running.node.id)?.sessionId !== null);

    // Another process takes the write lock (a backup, an sqlite3 shell in a transaction) and keeps it.
    const holder = new KeyvSqlite({
      uri: `sqlite://${join(h.dir, 'store', 'sessions.sqlite')}`,
      busyTimeout: 100,
    });
    await holder.query('BEGIN IMMEDIATE');
    const refused = await h.engine.submit({ prompt: 'new work', origin: ref(nextId()), replyTo: null });
    expect(refused).toEqual({
      kind: 'rejected',
      reason: expect.stringMatching(
        /^The task was not started: the relay cannot save it right now \(session store: .*database is locked\)\. Send it again/,
      ),
    });
    expect(h.engine.stats().store).toMatchObject({ writable: false });

    writeFileSync(gate, '');
    const done = await h.finished(running.node.id);
    expect(done.outcome).toEqual({ kind: 'done', text: 'Hi! This is the mock model.' });
    expect(userText(h.events, done)).toBe('Hi! This is the mock model.');
    const status = ref(nextId());
    await h.engine.linkMessage(running.node.id, status, 'status');
    expect(h.engine.findNodeByMessage(status)?.id).toBe(running.node.id);
    expect(h.engine.stats().store).toMatchObject({ writable: false, pendingWrites: 1 });
    // Clearing cannot be done half-way: refused with the reason, the node stays.
    await expect(h.engine.clear({ kind: 'message', ref: running.origin })).rejects.toThrow(
      /^could not clear: the session store cannot be written \(.*database is locked\)/,
    );
    expect(h.engine.findNodeByMessage(running.origin)?.state).toBe('done');
    expect(h.engine.stats().totalNodes).toBe(1);

    await holder.query('COMMIT');
    await until(() => h.engine.stats().store?.writable === true);
    expect(h.engine.stats().store).toEqual({ writable: true, pendingWrites: 0, lastError: null });
    const after = await submitOk(h.engine, 'accepted again');
    expect((await h.finished(after.node.id)).state).toBe('done');
    await holder.disconnect();

    // What the store holds now is what a restart shows: the finished task with its link, the new one, nothing else.
    await h.engine.close();
    const again = h.reopen();
    open.push(again);
    await again.engine.start();
    expect(again.engine.findNodeByMessage(status)).toMatchObject({ id: running.node.id, state: 'done' });
    expect(again.engine.getNode(running.node.id)?.outcome).toEqual(done.outcome);
    expect(again.engine.stats()).toMatchObject({ totalNodes: 2, byState: { done: 2 } });
  });

  it('made read-only (file and directory) while running, then restarted: nothing lost, the start names SESSION_STORE_URL', async () => {
    const h = harness();
    const dir = h.dir;
    const config = fakeCliConfig(dir);
    const storeDir = join(dir, 'store');
    const files = ['sessions.sqlite', 'sessions.sqlite-wal', 'sessions.sqlite-shm'].map((name) =>
      join(storeDir, name),
    );
    const setMode = (file: number, folder: number) => {
      for (const path of files) chmodSync(path, file);
      chmodSync(storeDir, folder);
    };
    const child = startEngineProcess({ dir, config, honourFileModes: true });
    children.push(child);
    await child.waitFor((m) => m.kind === 'ready');
    const before = ref(nextId());
    child.send({ prompt: 'before', origin: before, replyTo: null });
    await child.waitFor(
      (m) => m.kind === 'event' && m.node.prompt === 'before' && m.event.type === 'outcome',
    );

    setMode(0o444, 0o555);
    // SQLite checks permissions when it opens the file; the open handle keeps writing, so nothing is refused or
    // lost while this process lives.
    const during = ref(nextId());
    child.send({ prompt: 'during', origin: during, replyTo: null });
    const accepted = await child.waitFor((m) => m.kind === 'submitted');
    expect(accepted.kind === 'submitted' && accepted.result.kind).toBe('accepted');
    await child.waitFor(
      (m) => m.kind === 'event' && m.node.prompt === 'during' && m.event.type === 'outcome',
    );
    child.send({ op: 'close' });
    await child.waitFor((m) => m.kind === 'closed');

    const refused = startEngineProcess({ dir, config, honourFileModes: true });
    children.push(refused);
    const failure = await refused.waitFor((m) => m.kind === 'start-failed');
    expect(failure.kind === 'start-failed' && failure.message).toMatch(
      /^SESSION_STORE_URL=sqlite:\/\/.*sessions\.sqlite: the session store cannot be written \(.*readonly.*\)\. Check that the relay's user may write the file and its directory\.$/,
    );
    expect((await refused.exit).exitCode).toBe(1);

    setMode(0o644, 0o755);
    await h.engine.start();
    expect(nodeOf(h.engine, before).state).toBe('done');
    expect(nodeOf(h.engine, during).state).toBe('done');
    expect(h.engine.stats().totalNodes).toBe(2);
  });

  it('a store server that is not there is a start error naming it, without the password; an unknown scheme is refused', async () => {
    // Port 1: nothing listens there, so the connection is refused at once.
    const redis = harness({ storeUrl: 'redis://:hunter2secret@127.0.0.1:1' });
    const redisError: unknown = await redis.engine.start().catch((e: unknown) => e);
    expect(redisError).toMatchObject({ kind: 'store' });
    expect(String(redisError)).toMatch(
      /SESSION_STORE_URL=redis:\/\/…@127\.0\.0\.1:1: the session store cannot be written \(.*\)\. Check that the server is running/,
    );
    expect(String(redisError)).not.toContain('hunter2');
    const postgres = harness({ storeUrl: 'postgres://relay:hunter2secret@127.0.0.1:1/relay' });
    const postgresError: unknown = await postgres.engine.start().catch((e: unknown) => e);
    expect(String(postgresError)).toMatch(
      /SESSION_STORE_URL=postgres:\/\/…@127\.0\.0\.1:1\/relay: .*ECONNREFUSED/,
    );
    expect(String(postgresError)).not.toContain('hunter2');
    const mongo = harness({ storeUrl: 'mongodb://127.0.0.1/relay' });
    const error: unknown = await mongo.engine.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'store' });
    expect(String(error)).toMatch(
      /SESSION_STORE_URL scheme 'mongodb' is not supported: use sqlite:\/\/<path>, redis:\/\/… or postgres:\/\/…/,
    );
  });
});
