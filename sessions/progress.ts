import type { CliEvent, ResultEvent } from './cli-events.js';
import { summarizeToolInput, summarizeToolResult } from './tool-summary.js';
import type { ProgressEvent } from './types.js';

// CLI events → the platform-neutral progress model. Pure: the mapper keeps only what it needs to avoid counting
// text twice. With --include-partial-messages the main agent's text and thinking arrive as stream deltas AND again
// as complete `assistant` blocks (same message id, the block printed before its content_block_stop); the deltas
// are emitted as they come and the complete block only adds what the deltas missed (nothing, normally).
// Sub-agent events (parent_tool_use_id set) have no stream events; their tool calls show as sub-agent progress.

export interface ProgressMapper {
  map(event: CliEvent): ProgressEvent[];
}

interface StreamedBlock {
  type: 'text' | 'thinking';
  text: string;
  consumed: boolean;
}

export function createProgressMapper(options: { cwd?: string } = {}): ProgressMapper {
  // message id → streamed blocks by index; only the current and previous messages matter, so the map is pruned.
  const streamed = new Map<string, Map<number, StreamedBlock>>();
  let currentMessage: string | null = null;
  const finishedTasks = new Set<string>();
  const taskByToolUse = new Map<string, string>();
  const taskDescriptions = new Map<string, string>();
  let compacting = false;

  const blocksOf = (messageId: string): Map<number, StreamedBlock> => {
    let blocks = streamed.get(messageId);
    if (blocks === undefined) {
      blocks = new Map();
      streamed.set(messageId, blocks);
      // Keep the map small: messages older than the last few are never completed again.
      if (streamed.size > 8) {
        const oldest = streamed.keys().next().value;
        if (oldest !== undefined) streamed.delete(oldest);
      }
    }
    return blocks;
  };

  const fromStream = (event: Extract<CliEvent, { kind: 'stream' }>): ProgressEvent[] => {
    if (event.parentToolUseId !== null) return [];
    const delta = event.delta;
    if (delta.type === 'message_start') {
      currentMessage = delta.messageId;
      return [];
    }
    if (delta.type !== 'text_delta' && delta.type !== 'thinking_delta') return [];
    const messageId = event.messageId ?? currentMessage;
    if (messageId === null || delta.text === '') return [];
    const kind = delta.type === 'text_delta' ? 'text' : 'thinking';
    const blocks = blocksOf(messageId);
    const block = blocks.get(delta.index) ?? { type: kind, text: '', consumed: false };
    block.text += delta.text;
    blocks.set(delta.index, block);
    return [{ type: kind, text: delta.text }];
  };

  /** The part of a complete text/thinking block the deltas have not shown yet. */
  const unseenPart = (messageId: string, type: 'text' | 'thinking', text: string): string => {
    const blocks = streamed.get(messageId);
    if (blocks === undefined) return text;
    const indices = [...blocks.keys()].sort((a, b) => a - b);
    for (const index of indices) {
      const block = blocks.get(index);
      if (block === undefined || block.consumed || block.type !== type) continue;
      block.consumed = true;
      return text.startsWith(block.text) ? text.slice(block.text.length) : '';
    }
    return text;
  };

  const fromAssistant = (event: Extract<CliEvent, { kind: 'assistant' }>): ProgressEvent[] => {
    const out: ProgressEvent[] = [];
    for (const block of event.blocks) {
      if (block.type === 'tool_use') {
        const summary = summarizeToolInput(block.name, block.input, options.cwd);
        if (event.parentToolUseId === null) {
          out.push({ type: 'tool_call', toolUseId: block.id, name: block.name, summary });
        } else {
          out.push({
            type: 'subagent',
            taskId: taskByToolUse.get(event.parentToolUseId) ?? event.parentToolUseId,
            status: 'progress',
            description: summary === '' ? block.name : `${block.name}: ${summary}`,
          });
        }
        continue;
      }
      // Sub-agents' own words are not shown (the CLI does not print their final text either).
      if (event.parentToolUseId !== null || event.synthetic) continue;
      const rest = unseenPart(event.messageId, block.type, block.text);
      if (rest !== '') out.push({ type: block.type, text: rest });
    }
    return out;
  };

  const fromTask = (event: Extract<CliEvent, { kind: 'task' }>): ProgressEvent[] => {
    if (finishedTasks.has(event.taskId)) return [];
    if (event.toolUseId !== null) taskByToolUse.set(event.toolUseId, event.taskId);
    if (event.phase === 'started') {
      taskDescriptions.set(event.taskId, event.description);
      return [{ type: 'subagent', taskId: event.taskId, status: 'started', description: event.description }];
    }
    if (event.phase === 'progress') {
      return [{ type: 'subagent', taskId: event.taskId, status: 'progress', description: event.description }];
    }
    const status = event.status ?? '';
    if (status === 'completed' || status === 'failed' || status === 'killed' || status === 'stopped') {
      finishedTasks.add(event.taskId);
      return [
        {
          type: 'subagent',
          taskId: event.taskId,
          status: status === 'completed' ? 'done' : 'failed',
          description: taskDescriptions.get(event.taskId) ?? event.description,
        },
      ];
    }
    return [];
  };

  return {
    map(event) {
      switch (event.kind) {
        case 'stream':
          return fromStream(event);
        case 'assistant':
          return fromAssistant(event);
        case 'user':
          if (event.parentToolUseId !== null) return [];
          return event.results.map((result) => ({
            type: 'tool_result',
            toolUseId: result.toolUseId,
            isError: result.isError,
            summary: summarizeToolResult(result.text),
          }));
        case 'task':
          return fromTask(event);
        case 'api_retry':
          return [
            {
              type: 'retry',
              attempt: event.attempt,
              maxRetries: event.maxRetries,
              delayMs: event.delayMs,
              status: event.status,
              error: event.error,
            },
          ];
        case 'compacting':
          compacting = true;
          return [{ type: 'compacting' }];
        case 'compact_boundary': {
          const shown = compacting;
          compacting = false;
          return shown ? [] : [{ type: 'compacting' }];
        }
        case 'init':
        case 'result':
        case 'background_tasks':
        case 'control':
        case 'ignored':
        case 'unknown':
          return [];
        default:
          return checkNever(event);
      }
    },
  };
}

function checkNever(value: never): never {
  throw new Error(`unhandled CLI event ${JSON.stringify(value)}`);
}

/** What one run amounts to, folded from its events: the facts the outcome is built from. */
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
