import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeSnapshot, ProgressEvent } from '../../sessions/types.js';
import { createHarness, type Harness, submitOk } from '../sessions/harness.js';

// The engine in ask mode over a stand-in CLI that speaks the recorded control protocol (asking-cli.mjs): fast
// checks of when stdin closes, the idle timeout while a person decides, and stop by interrupt.

const ASKING_CLI = resolve(import.meta.dirname, 'asking-cli.mjs');

type PermissionEvent = Extract<ProgressEvent, { type: 'permission' }>;

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

function ask(overrides: { idleTimeoutMs?: number } = {}, permissionTimeoutMs = 60_000): Harness {
  h = createHarness({ claudeBin: ASKING_CLI, ...overrides }, { permissions: 'ask', permissionTimeoutMs });
  return h;
}

/** The nth permission event of a node with this status, now or when it comes. */
function permission(harness: Harness, nodeId: string, status: PermissionEvent['status'], nth = 0) {
  return new Promise<PermissionEvent>((resolveEvent) => {
    const find = (): PermissionEvent | undefined =>
      harness.events
        .map((item) => (item.node.id === nodeId && item.event.type === 'permission' ? item.event : null))
        .filter((event): event is PermissionEvent => event?.status === status)[nth];
    const found = find();
    if (found) return resolveEvent(found);
    const off = harness.engine.subscribe(() => {
      const later = find();
      if (later) {
        off();
        resolveEvent(later);
      }
    });
  });
}

const answer = (node: NodeSnapshot): string => (node.outcome?.kind === 'done' ? node.outcome.text : '');

describe('engine in ask mode (stand-in CLI)', () => {
  it('stdin stays open past a result while a background task runs: its later prompt is answered too', async () => {
    const harness = ask();
    await harness.engine.start();
    const { node } = await submitOk(harness.engine, 'go [ask:background]');
    const first = await permission(harness, node.id, 'pending', 0);
    expect(first).toMatchObject({ toolName: 'Bash', summary: 'echo one' });
    expect(await harness.engine.answerPermission(node.id, first.requestId, 'allow')).toBe(true);
    const second = await permission(harness, node.id, 'pending', 1);
    expect(second.summary).toBe('echo two');
    expect(await harness.engine.answerPermission(node.id, second.requestId, 'deny')).toBe(true);
    const done = await harness.finished(node.id);
    expect(done.state).toBe('done');
    expect(answer(done)).toMatch(/^second: denied: The user denied this tool call from chat/);
  });

  it('a prompt waiting for a person is no idle time; silence without a prompt still is', async () => {
    const harness = ask({ idleTimeoutMs: 300 });
    await harness.engine.start();
    const { node } = await submitOk(harness.engine, 'go');
    const pending = await permission(harness, node.id, 'pending');
    await new Promise((wait) => setTimeout(wait, 1200));
    expect(harness.engine.getNode(node.id)?.state).toBe('running');
    await harness.engine.answerPermission(node.id, pending.requestId, 'always');
    const done = await harness.finished(node.id);
    expect(answer(done)).toBe('first: allowed echo one');

    const silent = await submitOk(harness.engine, 'go [ask:silent]');
    const timedOut = await harness.finished(silent.node.id);
    expect(timedOut.outcome?.kind).toBe('timed_out');
  });

  it('stop while a prompt waits: the prompt is cancelled at once and the run ends by interrupt', async () => {
    const harness = ask();
    await harness.engine.start();
    const { node, origin } = await submitOk(harness.engine, 'go');
    const pending = await permission(harness, node.id, 'pending');
    const { stopped } = await harness.engine.stop({ kind: 'message', ref: origin });
    expect(stopped.map((n) => n.id)).toEqual([node.id]);
    const cancelled = await permission(harness, node.id, 'cancelled');
    expect(cancelled.requestId).toBe(pending.requestId);
    expect(harness.engine.getNode(node.id)?.state).toBe('stopped');
    expect(await harness.engine.answerPermission(node.id, pending.requestId, 'allow')).toBe(false);
    // One ending per prompt: the CLI's own withdrawal after the interrupt adds nothing.
    const ends = harness.events.filter(
      (item) => item.event.type === 'permission' && item.event.status !== 'pending',
    );
    expect(ends).toHaveLength(1);
  });

  it('an unknown node or request id is refused', async () => {
    const harness = ask();
    await harness.engine.start();
    expect(await harness.engine.answerPermission('no-such-node', 'x', 'allow')).toBe(false);
  });
});
