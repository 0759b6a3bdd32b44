import { describe, expect, it } from 'vitest';
import { createTaskLedger, type LedgerTask } from '../../platforms/task-ledger.js';
import type { NodeState, ProgressEvent } from '../../sessions/types.js';

// The tracker's bookkeeping of nodes, alone: events that arrive while a submit is in flight are held for the
// node it returns, the final answer waits for the outcome, and a cleared or answered node is never followed again.

const text = (value: string): ProgressEvent => ({ type: 'text', text: value });
const chat = 'telegram:1';

function task(nodeId: string, state: NodeState = 'running'): LedgerTask {
  return { nodeId, chat, state, finished: false };
}

describe('task ledger', () => {
  it('holds events only while a submit is in flight, and hands them to that node once', async () => {
    const ledger = createTaskLedger<LedgerTask>();
    ledger.hold('early', text('dropped: nothing is being submitted'));
    let resolveSubmit = (_: string): void => {};
    const submitted = ledger.submitting(() => new Promise<string>((resolve) => (resolveSubmit = resolve)));
    ledger.hold('n1', text('a'));
    ledger.hold('other', text('b'));
    resolveSubmit('n1');
    expect(await submitted).toBe('n1');
    ledger.follow(task('n1'));
    expect(ledger.takeHeld('n1')).toEqual([text('a')]);
    expect(ledger.takeHeld('n1')).toEqual([]);
    expect(ledger.takeHeld('other')).toEqual([]);
    expect(ledger.takeHeld('early')).toEqual([]);
  });

  it('finishes a task only once its outcome was seen, then never follows it again', () => {
    const ledger = createTaskLedger<LedgerTask>();
    const followed = task('n1');
    ledger.follow(followed);
    expect(ledger.hasRunning(chat)).toBe(true);
    expect(ledger.finishOnOutcome(followed)).toBe(false);
    ledger.sawOutcome('n1');
    expect(ledger.finishOnOutcome(followed)).toBe(true);
    expect(followed.finished).toBe(true);
    expect(ledger.get('n1')).toBeUndefined();
    expect(ledger.isDelivered('n1')).toBe(true);
    expect(ledger.hasRunning(chat)).toBe(false);
  });

  it('forgets cleared nodes for good and names the chats they were in', () => {
    const ledger = createTaskLedger<LedgerTask>();
    ledger.follow(task('n1'));
    expect([...ledger.forget(['n1', 'never-followed'])]).toEqual([chat]);
    expect(ledger.get('n1')).toBeUndefined();
    expect(ledger.isDelivered('never-followed')).toBe(true);
  });
});
