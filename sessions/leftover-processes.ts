import { readdirSync, readFileSync } from 'node:fs';

// A CLI left running by a relay process that died without cleaning up (kill -9, OOM killer) keeps working in its
// own process group, editing the workspace while its node is already reported interrupted. The next start ends
// it, but must never touch an unrelated process that reused its pid. Two independent ways to recognise ours:
// - the record persisted with the running node: pid, process group, start time (/proc/<pid>/stat field 22, clock
//   ticks since boot) and the boot id; a reused pid has a different start time, and a reboot a different boot id;
// - the node id each CLI gets in its environment (NODE_ID_ENV), inherited by every tool it starts, which also
//   covers the moment between spawn and the record being stored, and tools still alive after the CLI died.
// Linux only (/proc); elsewhere nothing is found and the caller logs that it could not check.

export const NODE_ID_ENV = 'CLAUDE_RELAY_NODE_ID';

export interface CliProcessRecord {
  pid: number;
  pgid: number;
  /** /proc/<pid>/stat field 22: clock ticks after boot. */
  startTime: number;
  bootId: string | null;
  /** The node id in the environment of a pre-started process, which a node took later (its tools carry it). */
  tag?: string;
}

export interface ProcInfo {
  pid: number;
  pgid: number;
  startTime: number;
  /** The node id in its environment, if it carries one. */
  nodeId: string | null;
}

/** `/proc/<pid>/stat`: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so fields are read after the last ')'. */
export function parseProcStat(text: string): { state: string; pgid: number; startTime: number } | null {
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  const fields = text.slice(close + 2).split(' ');
  // Field n of the man page is fields[n - 3] here: state is 3, pgrp 5, starttime 22.
  const state = fields[0];
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isInteger(pgid) || !Number.isInteger(startTime)) return null;
  return { state, pgid, startTime };
}

function readStat(pid: number): { state: string; pgid: number; startTime: number } | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone, or not Linux
  }
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Identifies a just-spawned child (it cannot have been reaped yet: we have not waited for it). */
export function readCliProcessRecord(pid: number): CliProcessRecord | null {
  const stat = readStat(pid);
  return stat === null ? null : { pid, pgid: stat.pgid, startTime: stat.startTime, bootId: readBootId() };
}

function nodeIdInEnviron(pid: number): string | null {
  try {
    const prefix = `${NODE_ID_ENV}=`;
    const entry = readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .find((item) => item.startsWith(prefix));
    return entry === undefined ? null : entry.slice(prefix.length);
  } catch {
    return null; // gone, or not ours to read
  }
}

/** Every live process (zombies excluded) except `self`, with what is needed to recognise ours. */
export function scanProcesses(self: number): ProcInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = pid === self ? null : readStat(pid);
    if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
    out.push({ pid, pgid: stat.pgid, startTime: stat.startTime, nodeId: nodeIdInEnviron(pid) });
  }
  return out;
}

/** Pure: the processes that belong to the node; `leader` when the recorded CLI itself is among them. */
export function leftoversOf(
  nodeId: string,
  record: CliProcessRecord | null,
  bootId: string | null,
  processes: ProcInfo[],
): { pids: number[]; leader: boolean } {
  let leader = false;
  const pids: number[] = [];
  for (const proc of processes) {
    const isLeader =
      record !== null &&
      record.bootId === bootId &&
      proc.pid === record.pid &&
      proc.startTime === record.startTime;
    if (isLeader) leader = true;
    const carriesId = proc.nodeId !== null && (proc.nodeId === nodeId || proc.nodeId === record?.tag);
    if (isLeader || carriesId) pids.push(proc.pid);
  }
  return { pids, leader };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * SIGKILLs what is left of a node's CLI and waits until it is gone (a few rounds, so a process forked meanwhile
 * is caught too). Returns how many processes were ended and how many could not be.
 */
export async function endLeftovers(
  nodeId: string,
  record: CliProcessRecord | null,
): Promise<{ ended: number; remaining: number }> {
  const bootId = readBootId();
  const ownGroup = readStat(process.pid)?.pgid ?? null;
  const ended = new Set<number>();
  for (let round = 0; round < 20; round++) {
    const { pids, leader } = leftoversOf(nodeId, record, bootId, scanProcesses(process.pid));
    if (pids.length === 0) return { ended: ended.size, remaining: 0 };
    // The group at once when its leader is provably ours and leads its own group, as our CLIs do (nothing it
    // forks escapes); never our own group. Then each process found.
    if (leader && record !== null && record.pgid === record.pid && record.pgid !== ownGroup) {
      signal(-record.pgid);
    }
    for (const pid of pids) {
      signal(pid);
      ended.add(pid);
    }
    await sleep(50);
  }
  const { pids } = leftoversOf(nodeId, record, bootId, scanProcesses(process.pid));
  return { ended: ended.size, remaining: pids.length };
}

function signal(target: number): void {
  // 0 and -1 mean "my group" and "everyone" to kill(2): never what a record may ask for.
  if (target === 0 || target === -1) return;
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // ESRCH: already gone.
  }
}
