import type { ProgressEvent } from '../../sessions/types.js';
import type { Dialect, Enclosure } from './dialect.js';
import { headOf, oneLine, tailOf, wellFormedParts } from './text.js';
import { assertLimits, type Formatted, type RenderLimits } from './types.js';

// The way a task went, kept for after it ends: thinking excerpts, the text between tool calls, every tool call
// with its outcome, sub-agents with their tool counts, retries and permission answers. A pure fold of the
// engine's events, bounded (the oldest steps go first, counted), and its rendering as a collapsed block or as
// messages of their own.

export type StepEntry =
  | { kind: 'thinking'; text: string }
  | { kind: 'text'; text: string }
  | {
      kind: 'tool';
      toolUseId: string;
      name: string;
      summary: string;
      status: 'running' | 'ok' | 'error';
      result: string | null;
    }
  | {
      kind: 'subagent';
      taskId: string;
      description: string;
      status: 'started' | 'progress' | 'done' | 'failed';
      tools: number;
      currentTool: string | null;
    }
  | { kind: 'notice'; text: string };

export interface StepLog {
  entries: StepEntry[];
  /** Steps dropped from the front to stay within STEPS_KEPT. */
  dropped: number;
  /** The kind of the last streamed delta: deltas of one block join the same entry. */
  streaming: 'thinking' | 'text' | null;
}

export const STEPS_KEPT = 300;
/** Per thinking or text entry: what the live status showed of it at most. */
export const STEP_TEXT_KEPT = 1000;

export const emptyStepLog: StepLog = { entries: [], dropped: 0, streaming: null };

function push(log: StepLog, entry: StepEntry): StepLog {
  const entries = [...log.entries, entry];
  const over = Math.max(0, entries.length - STEPS_KEPT);
  return { entries: over > 0 ? entries.slice(over) : entries, dropped: log.dropped + over, streaming: null };
}

function keepTail(text: string): string {
  return text.length <= STEP_TEXT_KEPT ? text : tailOf(text, STEP_TEXT_KEPT);
}

function appendDelta(log: StepLog, kind: 'thinking' | 'text', delta: string): StepLog {
  const last = log.entries.at(-1);
  if (log.streaming === kind && last?.kind === kind) {
    const entries = [...log.entries.slice(0, -1), { kind, text: keepTail(last.text + delta) }];
    return { ...log, entries };
  }
  return { ...push(log, { kind, text: keepTail(delta) }), streaming: kind };
}

/** Replaces the last entry matching `match` (the newest first); the log unchanged when none does. */
function updateLast(log: StepLog, match: (entry: StepEntry) => boolean, update: (e: StepEntry) => StepEntry) {
  for (let index = log.entries.length - 1; index >= 0; index--) {
    const entry = log.entries[index]!;
    if (!match(entry)) continue;
    const entries = [...log.entries];
    entries[index] = update(entry);
    return { ...log, entries, streaming: null };
  }
  return log;
}

type SubagentEvent = Extract<ProgressEvent, { type: 'subagent' }>;

function subagentStep(log: StepLog, event: SubagentEvent): StepLog {
  const isIt = (entry: StepEntry): boolean => entry.kind === 'subagent' && entry.taskId === event.taskId;
  const tool = event.tool ?? null;
  if (!log.entries.some(isIt)) {
    return push(log, {
      kind: 'subagent',
      taskId: event.taskId,
      description: event.description || 'sub-agent',
      status: event.status,
      tools: tool === null ? 0 : 1,
      currentTool: tool,
    });
  }
  return updateLast(log, isIt, (entry) =>
    entry.kind !== 'subagent'
      ? entry
      : {
          ...entry,
          description: event.description || entry.description,
          status: event.status,
          tools: entry.tools + (tool === null ? 0 : 1),
          currentTool: tool ?? entry.currentTool,
        },
  );
}

export function reduceSteps(log: StepLog, event: ProgressEvent, notice?: string): StepLog {
  switch (event.type) {
    case 'thinking':
      return appendDelta(log, 'thinking', event.text);
    case 'text':
      return appendDelta(log, 'text', event.text);
    case 'tool_call':
      return push(log, {
        kind: 'tool',
        toolUseId: event.toolUseId,
        name: event.name,
        summary: event.summary,
        status: 'running',
        result: null,
      });
    case 'tool_result':
      return updateLast(
        log,
        (entry) => entry.kind === 'tool' && entry.toolUseId === event.toolUseId,
        (entry) =>
          entry.kind === 'tool'
            ? { ...entry, status: event.isError ? 'error' : 'ok', result: event.summary }
            : entry,
      );
    case 'subagent':
      return subagentStep(log, event);
    case 'retry':
    case 'permission':
      return notice ? push(log, { kind: 'notice', text: notice }) : log;
    default:
      return log;
  }
}

/** The latest thought, as far as it is kept (the live status shows it). */
export function latestThought(log: StepLog): string {
  for (let index = log.entries.length - 1; index >= 0; index--) {
    const entry = log.entries[index]!;
    if (entry.kind === 'thinking') return entry.text;
  }
  return '';
}

export function toolCount(log: StepLog): number {
  return log.entries.filter((entry) => entry.kind === 'tool').length;
}

const SUBAGENT_STATUS = { started: 'started', progress: 'working', done: 'done', failed: 'failed' } as const;

/** One sub-agent's line text after its label: description, status, tool count and its current tool. */
export function subagentDetail(
  agent: {
    description: string;
    status: keyof typeof SUBAGENT_STATUS;
    tools: number;
    currentTool: string | null;
  },
  max: number,
): string {
  const parts = [`${headOf(oneLine(agent.description), max)}: ${SUBAGENT_STATUS[agent.status]}`];
  if (agent.tools > 0) parts.push(`${agent.tools} tool call${agent.tools === 1 ? '' : 's'}`);
  const running = agent.status === 'started' || agent.status === 'progress';
  if (running && agent.currentTool) parts.push(`now ${headOf(oneLine(agent.currentTool), max)}`);
  return parts.join(' · ');
}

interface StepLine {
  formatted: string;
  plain: string;
}

function lineOf(entry: StepEntry, dialect: Dialect): StepLine {
  const text = (s: string): StepLine => ({ formatted: dialect.escape(s), plain: dialect.verbatim(s) });
  const labelled = (label: string, rest: string): StepLine => ({
    formatted: `${dialect.bold(dialect.escape(label))}${rest ? ` ${dialect.escape(rest)}` : ''}`,
    plain: dialect.verbatim(`${label}${rest ? ` ${rest}` : ''}`),
  });
  switch (entry.kind) {
    case 'thinking':
      return {
        formatted: `💭 ${dialect.italic(dialect.escape(oneLine(entry.text)))}`,
        plain: dialect.verbatim(`💭 ${oneLine(entry.text)}`),
      };
    case 'text':
      return text(`💬 ${oneLine(entry.text)}`);
    case 'tool': {
      const mark = entry.status === 'running' ? '⏳' : entry.status === 'ok' ? '✔️' : '✖️';
      const result = entry.result ? ` → ${headOf(oneLine(entry.result), 160)}` : '';
      const line = labelled(headOf(oneLine(entry.name), 40), `${oneLine(entry.summary)}${result}`);
      return { formatted: `${mark} ${line.formatted}`, plain: `${mark} ${line.plain}` };
    }
    case 'subagent': {
      const line = labelled('Sub-agent', subagentDetail(entry, 200));
      return { formatted: `🤖 ${line.formatted}`, plain: `🤖 ${line.plain}` };
    }
    case 'notice':
      return text(entry.text);
  }
}

/** The answer's own text is not repeated among the steps: the last text entry usually is the answer. */
function shownEntries(log: StepLog, answer: string): StepEntry[] {
  const flatAnswer = oneLine(answer);
  return log.entries.filter(
    (entry) => !(entry.kind === 'text' && flatAnswer.includes(oneLine(entry.text).replace(/^…/, ''))),
  );
}

/** The first line of the steps: how many tool calls and steps. */
function headOfSteps(entries: readonly StepEntry[]): string {
  const tools = entries.filter((entry) => entry.kind === 'tool').length;
  return `🧭 How it went: ${tools} tool call${tools === 1 ? '' : 's'}, ${entries.length} step${entries.length === 1 ? '' : 's'}`;
}

/**
 * The steps as one text file (`steps.md`) for a chat that would need several messages for them: the same lines
 * as the messages, unformatted, and their first line as the caption. Null when there are no steps.
 */
export function renderStepsFile(
  log: StepLog,
  answer: string,
  dialect: Dialect,
): { caption: Formatted; text: string } | null {
  const entries = shownEntries(log, answer);
  if (entries.length === 0) return null;
  const head = headOfSteps(entries);
  const lines = [head];
  if (log.dropped > 0) lines.push(`… ${log.dropped} earlier step${log.dropped === 1 ? '' : 's'} not kept`);
  for (const entry of entries) lines.push(lineOf(entry, dialect).plain);
  return {
    caption: { formatted: dialect.bold(dialect.escape(head)), plain: dialect.verbatim(head) },
    text: `${lines.join('\n')}\n`,
  };
}

/**
 * The steps as messages within the limit, each wrapped in `enclosure` when given (Telegram's expandable
 * quote); no messages when nothing was done but answering. A line too long for one message is shortened.
 */
export function renderSteps(
  log: StepLog,
  answer: string,
  limits: RenderLimits,
  enclosure: Enclosure | null,
): Formatted[] {
  assertLimits(limits);
  const { dialect, maxLength } = limits;
  const entries = shownEntries(log, answer);
  if (entries.length === 0) return [];
  const head = headOfSteps(entries);
  const lines: StepLine[] = [
    { formatted: dialect.bold(dialect.escape(head)), plain: dialect.verbatim(head) },
  ];
  if (log.dropped > 0) {
    const note = `… ${log.dropped} earlier step${log.dropped === 1 ? '' : 's'} not kept`;
    lines.push({ formatted: dialect.italic(dialect.escape(note)), plain: dialect.verbatim(note) });
  }
  for (const entry of entries) lines.push(lineOf(entry, dialect));
  const open = enclosure?.open ?? '';
  const close = enclosure?.close ?? '';
  const budget = maxLength - open.length - close.length;
  const parts: Formatted[] = [];
  let formatted = '';
  let plain = '';
  const emit = (): void => {
    if (plain !== '') parts.push(wellFormedParts({ formatted: `${open}${formatted}${close}`, plain }));
    formatted = '';
    plain = '';
  };
  for (const raw of lines) {
    // Escaping grows text at most fivefold (`&` → `&amp;`): a sixth of the budget always fits.
    const line =
      raw.formatted.length <= budget && raw.plain.length <= maxLength
        ? raw
        : {
            formatted: dialect.escape(headOf(raw.plain, Math.floor(budget / 6))),
            plain: headOf(raw.plain, Math.floor(budget / 6)),
          };
    const joinedFormatted = formatted === '' ? line.formatted : `${formatted}\n${line.formatted}`;
    const joinedPlain = plain === '' ? line.plain : `${plain}\n${line.plain}`;
    if (joinedFormatted.length > budget || joinedPlain.length > maxLength) {
      emit();
      formatted = line.formatted;
      plain = line.plain;
    } else {
      formatted = joinedFormatted;
      plain = joinedPlain;
    }
  }
  emit();
  return parts;
}
