import type { CliEvent, ResultEvent } from './cli-events.js';
import type { ProgressEvent } from './types.js';

// What one run amounts to, folded from its events and their progress: the facts its outcome is built from
// (outcome.ts). Pure.

export interface RunSummary {
  /** The first init's session id: with --fork-session, the new session. */
  sessionId: string | null;
  /** The final result: the highest result_index, later lines winning ties (2.1.330 may print several). */
  result: ResultEvent | null;
  /** Main-agent text of the current turn (since the last init): what a stopped run had said so far. */
  partialText: string;
  /** The model of the main agent's latest message: which model actually did the work. */
  model: string | null;
}

export const emptyRunSummary: RunSummary = { sessionId: null, result: null, partialText: '', model: null };

export function reduceRun(summary: RunSummary, event: CliEvent, progress: ProgressEvent[]): RunSummary {
  switch (event.kind) {
    case 'init':
      return {
        ...summary,
        sessionId: summary.sessionId ?? (event.sessionId || null),
        partialText: '',
      };
    case 'result': {
      const previous = summary.result;
      const wins =
        previous === null || (event.resultIndex ?? Number.MAX_SAFE_INTEGER) >= (previous.resultIndex ?? -1);
      // The session id comes from init only: a failed --resume prints a result with an id no file holds.
      return { ...summary, result: wins ? event : previous };
    }
    case 'assistant': {
      const mainAgent = event.parentToolUseId === null && !event.synthetic && event.model !== '';
      return withText(mainAgent ? { ...summary, model: event.model } : summary, progress);
    }
    default:
      return withText(summary, progress);
  }
}

function withText(summary: RunSummary, progress: ProgressEvent[]): RunSummary {
  let added = '';
  for (const item of progress) if (item.type === 'text') added += item.text;
  return added === '' ? summary : { ...summary, partialText: summary.partialText + added };
}
