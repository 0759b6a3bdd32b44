import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliEvent, parseCliEvent } from '../../sessions/cli-events.js';
import { createProgressMapper } from '../../sessions/progress.js';
import { emptyRunSummary, type RunSummary, reduceRun } from '../../sessions/run-summary.js';
import type { ProgressEvent } from '../../sessions/types.js';

// Reads the recorded CLI transcripts from the shared reference (never copied into the repo).
export const REFERENCE = '/work/shared/reference';

export function transcriptPath(version: '2.1.197' | '2.1.330', run: string): string {
  return join(REFERENCE, `claude-cli-${version}`, 'runs', run, 'stdout.jsonl');
}

export function transcriptLines(version: '2.1.197' | '2.1.330', run: string): string[] {
  return readFileSync(transcriptPath(version, run), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

export function transcriptEvents(version: '2.1.197' | '2.1.330', run: string): CliEvent[] {
  return transcriptLines(version, run).map((line) => {
    const event = parseCliEvent(JSON.parse(line));
    if (event === null) throw new Error(`line without a type in ${run}: ${line.slice(0, 80)}`);
    return event;
  });
}

/** Runs a transcript through the mapper and the reducer as the engine does. */
export function replayTranscript(
  version: '2.1.197' | '2.1.330',
  run: string,
  cwd?: string,
): { progress: ProgressEvent[]; summary: RunSummary; events: CliEvent[] } {
  const mapper = createProgressMapper({ cwd });
  const progress: ProgressEvent[] = [];
  let summary = emptyRunSummary;
  const events = transcriptEvents(version, run);
  for (const event of events) {
    const mapped = mapper.map(event);
    summary = reduceRun(summary, event, mapped);
    progress.push(...mapped);
  }
  return { progress, summary, events };
}

export function textOf(progress: ProgressEvent[], type: 'text' | 'thinking' = 'text'): string {
  return progress.map((event) => (event.type === type ? event.text : '')).join('');
}
