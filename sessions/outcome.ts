import type { RunSummary } from './run-summary.js';
import type { NodeState, Outcome } from './types.js';

// How a run ended, as the user should hear it. Pure: built from the folded events and the exit facts.

export type Termination = 'stop' | 'timeout' | null;

export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
  /** Why the process could not be started at all (binary missing, not executable …). */
  spawnError: string | null;
  /** The last few KB of stderr. */
  stderr: string;
  /** Lines on stdout that were not JSON: kept as error detail. */
  strayLines: string[];
  /** The first reason the engine ended the process, if it did. */
  termination: Termination;
  idleMs: number;
}

function detailOf(exit: ExitFacts): string {
  const text = [exit.stderr.trim(), ...exit.strayLines].filter((part) => part !== '').join('\n');
  return text.length > 2000 ? `…${text.slice(-2000)}` : text;
}

export function toOutcome(summary: RunSummary, exit: ExitFacts): Outcome {
  if (exit.spawnError !== null) return { kind: 'error', message: exit.spawnError };
  const result = summary.result;
  // A result that says success stands even if a stop arrived after it (the work is done).
  if (result !== null && !result.isError) return { kind: 'done', text: result.text ?? summary.partialText };
  if (exit.termination === 'stop') return { kind: 'stopped', partialText: summary.partialText };
  if (exit.termination === 'timeout') {
    return { kind: 'timed_out', idleMs: exit.idleMs, partialText: summary.partialText };
  }
  if (result?.subtype === 'error_max_turns') {
    return {
      kind: 'error',
      message: 'Claude stopped at the turn limit (--max-turns) before it finished.',
      limit: 'max_turns',
    };
  }
  if (result !== null) {
    const message =
      (result.text ?? '').trim() ||
      result.errors.join('\n').trim() ||
      detailOf(exit) ||
      `Claude ended with an error (${result.subtype || 'no detail'}).`;
    return { kind: 'error', message };
  }
  return {
    kind: 'crashed',
    exitCode: exit.exitCode,
    signal: exit.signal,
    detail: detailOf(exit) || 'The Claude CLI exited without a result.',
  };
}

/** The state a task is left in by how it ended: the one source for the engine, the footer and /stats. */
export function stateOf(outcome: Outcome): NodeState {
  switch (outcome.kind) {
    case 'done':
      return 'done';
    case 'error':
    case 'crashed':
      return 'error';
    case 'stopped':
    case 'timed_out':
      return 'stopped';
    case 'interrupted':
      return 'interrupted';
  }
}
