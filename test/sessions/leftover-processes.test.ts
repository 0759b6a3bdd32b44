import { describe, expect, it } from 'vitest';
import { leftoversOf, type ProcInfo, parseProcStat } from '../../sessions/leftover-processes.js';

// Recognising a CLI a killed relay left running: only ever our own processes (see test/faults for real ones).

const stat = (comm: string) =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 500 0 0 0 3 1 0 0 20 0 7 0 987654 1000000 100 18446744073709551615`;

describe('parseProcStat', () => {
  it('reads state, group and start time after the command name, whatever that name holds', () => {
    expect(parseProcStat(stat('node'))).toEqual({ state: 'S', pgid: 4242, startTime: 987654 });
    expect(parseProcStat(stat('we ird) (name'))).toEqual({ state: 'S', pgid: 4242, startTime: 987654 });
  });

  it('refuses text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('4242 (node) S 1')).toBeNull();
  });
});

describe('leftoversOf', () => {
  const record = { pid: 100, pgid: 100, startTime: 5000, bootId: 'boot-a' };
  const proc = (pid: number, more: Partial<ProcInfo> = {}): ProcInfo => ({
    pid,
    pgid: 100,
    startTime: 5000,
    nodeId: null,
    ...more,
  });

  it('takes the recorded CLI when pid, start time and boot all match', () => {
    expect(leftoversOf('n1', record, 'boot-a', [proc(100), proc(7, { pgid: 7 })])).toEqual({
      pids: [100],
      leader: true,
    });
  });

  it('leaves a process that reused the pid (other start time) or lives in another boot', () => {
    expect(leftoversOf('n1', record, 'boot-a', [proc(100, { startTime: 5001 })])).toEqual({
      pids: [],
      leader: false,
    });
    expect(leftoversOf('n1', record, 'boot-b', [proc(100)])).toEqual({ pids: [], leader: false });
  });

  it("takes processes carrying the node's id (tools the CLI started), even without a record", () => {
    const found = leftoversOf('n1', null, 'boot-a', [
      proc(200, { nodeId: 'n1', pgid: 200 }),
      proc(201, { nodeId: 'n2', pgid: 200 }),
      proc(202, { pgid: 200 }),
    ]);
    expect(found).toEqual({ pids: [200], leader: false });
  });

  it('a pre-started CLI a node took: its tools carry the tag it started with, which the record keeps', () => {
    const taken = { ...record, tag: 'prestart-1' };
    const found = leftoversOf('n1', taken, 'boot-a', [
      proc(300, { nodeId: 'prestart-1', pgid: 300 }),
      proc(301, { nodeId: 'prestart-2', pgid: 301 }),
    ]);
    expect(found).toEqual({ pids: [300], leader: false });
  });
});
