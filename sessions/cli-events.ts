import { num, numOrNull, type Json as Rec, record, str, strOrNull } from '../src/common/index.js';
import { type ControlMessage, parseControlMessage } from './control-protocol.js';
import type { ApiRetry, Usage } from './types.js';

// The CLI's stream-json output (`-p --output-format stream-json --verbose --include-partial-messages`) as typed
// events. `parseCliEvent` takes `unknown` (one parsed line) and never throws: a malformed field falls back to a
// neutral value so the rest of the line still counts; a line of an unknown type becomes `{ kind: 'unknown' }`.
// Shapes: shared/reference/claude-cli-2.1.197/FINDINGS.md §2 and claude-cli-2.1.330/FINDINGS.md §B.

export type AssistantBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface ToolResult {
  toolUseId: string;
  isError: boolean;
  text: string;
}

export type StreamDelta =
  | { type: 'message_start'; messageId: string }
  | { type: 'block_start'; index: number; blockType: string }
  | { type: 'text_delta'; index: number; text: string }
  | { type: 'thinking_delta'; index: number; text: string }
  | { type: 'block_stop'; index: number }
  | { type: 'other' };

export interface ResultEvent {
  kind: 'result';
  subtype: string;
  isError: boolean;
  /** The final answer, or the CLI's own error text ("API Error: 529 …"). */
  text: string | null;
  errors: string[];
  /** 2.1.330 numbers the results of one process (background sub-agents add turns); 2.1.197 has none. */
  resultIndex: number | null;
  sessionId: string | null;
  costUsd: number;
  usage: Usage;
  durationMs: number;
  terminalReason: string | null;
  apiErrorStatus: number | null;
}

export type TaskPhase = 'started' | 'progress' | 'updated' | 'notification';

export type CliEvent =
  | { kind: 'init'; sessionId: string; cwd: string; model: string }
  | {
      kind: 'assistant';
      messageId: string;
      parentToolUseId: string | null;
      blocks: AssistantBlock[];
      /** `<synthetic>` messages carry the CLI's own error text after it gave up. */
      synthetic: boolean;
      /** The model that wrote it, as the API (through the proxy: the provider's model) named it. */
      model: string;
      aborted: boolean;
    }
  | { kind: 'user'; parentToolUseId: string | null; results: ToolResult[]; texts: string[] }
  | { kind: 'stream'; parentToolUseId: string | null; messageId: string | null; delta: StreamDelta }
  | ({ kind: 'api_retry' } & ApiRetry)
  | {
      kind: 'task';
      phase: TaskPhase;
      taskId: string;
      /** The Agent tool call that launched it: the sub-agent's own events carry it as parent_tool_use_id. */
      toolUseId: string | null;
      description: string;
      status: string | null;
    }
  | { kind: 'compacting' }
  /** `system/status` naming the permission mode the CLI now runs in (leaving plan mode, say). */
  | { kind: 'permission_mode'; mode: string }
  | { kind: 'compact_boundary' }
  /** How many background tasks (sub-agents) are still running, after `system/background_tasks_changed`. */
  | { kind: 'background_tasks'; running: number }
  /** The control protocol (permission prompts, their withdrawal, replies to our requests): control-protocol.ts. */
  | { kind: 'control'; message: ControlMessage }
  | ResultEvent
  /** Known and deliberately unused (status pings, thinking token estimates, control replies …). */
  | { kind: 'ignored'; type: string }
  | { kind: 'unknown'; type: string };

// The CLI leaves fields out freely: a missing string reads as '', a missing count as 0 (null where it says more).
const strOr = (value: unknown, fallback = ''): string => str(value) ?? fallback;
const numOr = (value: unknown, fallback = 0): number => num(value) ?? fallback;

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function parseUsage(value: unknown): Usage {
  const usage = record(value) ?? {};
  return {
    inputTokens: numOr(usage.input_tokens),
    outputTokens: numOr(usage.output_tokens),
    cacheReadTokens: numOr(usage.cache_read_input_tokens),
    cacheCreationTokens: numOr(usage.cache_creation_input_tokens),
  };
}

/** Tool result content is a string or a list of blocks; only the text is kept. */
function contentText(value: unknown): string {
  if (typeof value === 'string') return value;
  return array(value)
    .map((block) => {
      const item = record(block);
      return item?.type === 'text' ? strOr(item.text) : '';
    })
    .filter((text) => text !== '')
    .join('\n');
}

function parseAssistantBlock(value: unknown): AssistantBlock | null {
  const block = record(value);
  switch (block?.type) {
    case 'text':
      return { type: 'text', text: strOr(block.text) };
    case 'thinking':
      return { type: 'thinking', text: strOr(block.thinking) };
    case 'tool_use':
      return { type: 'tool_use', id: strOr(block.id), name: strOr(block.name), input: block.input };
    default:
      return null;
  }
}

function parseStreamDelta(value: unknown): { delta: StreamDelta; messageId: string | null } {
  const event = record(value) ?? {};
  const index = numOr(event.index, -1);
  switch (event.type) {
    case 'message_start': {
      const id = strOrNull(record(event.message)?.id);
      return { delta: { type: 'message_start', messageId: id ?? '' }, messageId: id };
    }
    case 'content_block_start':
      return {
        delta: { type: 'block_start', index, blockType: strOr(record(event.content_block)?.type) },
        messageId: null,
      };
    case 'content_block_delta': {
      const delta = record(event.delta) ?? {};
      if (delta.type === 'text_delta') {
        return { delta: { type: 'text_delta', index, text: strOr(delta.text) }, messageId: null };
      }
      if (delta.type === 'thinking_delta') {
        return { delta: { type: 'thinking_delta', index, text: strOr(delta.thinking) }, messageId: null };
      }
      return { delta: { type: 'other' }, messageId: null };
    }
    case 'content_block_stop':
      return { delta: { type: 'block_stop', index }, messageId: null };
    default:
      return { delta: { type: 'other' }, messageId: null };
  }
}

const TASK_PHASES: Record<string, TaskPhase> = {
  task_started: 'started',
  task_progress: 'progress',
  task_updated: 'updated',
  task_notification: 'notification',
};

function parseSystem(line: Rec): CliEvent {
  const subtype = strOr(line.subtype);
  if (subtype === 'init') {
    return {
      kind: 'init',
      sessionId: strOr(line.session_id),
      cwd: strOr(line.cwd),
      model: strOr(line.model),
    };
  }
  if (subtype === 'api_retry') {
    return {
      kind: 'api_retry',
      attempt: numOr(line.attempt),
      maxRetries: numOr(line.max_retries),
      delayMs: numOr(line.retry_delay_ms),
      status: numOrNull(line.error_status),
      error: strOr(line.error),
    };
  }
  const phase = TASK_PHASES[subtype];
  if (phase !== undefined) {
    const patch = record(line.patch);
    return {
      kind: 'task',
      phase,
      taskId: strOr(line.task_id),
      toolUseId: strOrNull(line.tool_use_id),
      description: strOr(line.description, strOr(line.summary)),
      status: strOrNull(line.status) ?? strOrNull(patch?.status),
    };
  }
  if (subtype === 'status' && line.status === 'compacting') return { kind: 'compacting' };
  if (subtype === 'status' && typeof line.permissionMode === 'string' && line.permissionMode !== '') {
    return { kind: 'permission_mode', mode: line.permissionMode };
  }
  if (subtype === 'compact_boundary') return { kind: 'compact_boundary' };
  if (subtype === 'background_tasks_changed' && Array.isArray(line.tasks)) {
    return { kind: 'background_tasks', running: line.tasks.length };
  }
  if (
    ['status', 'thinking_tokens', 'background_tasks_changed', 'permission_denied', 'hook_response'].includes(
      subtype,
    )
  ) {
    return { kind: 'ignored', type: `system/${subtype}` };
  }
  return { kind: 'unknown', type: `system/${subtype}` };
}

function parseResult(line: Rec): ResultEvent {
  return {
    kind: 'result',
    subtype: strOr(line.subtype),
    isError: line.is_error === true,
    text: strOrNull(line.result),
    errors: array(line.errors).filter((item): item is string => typeof item === 'string'),
    resultIndex: numOrNull(line.result_index),
    sessionId: strOrNull(line.session_id),
    costUsd: numOr(line.total_cost_usd),
    usage: parseUsage(line.usage),
    durationMs: numOr(line.duration_ms),
    terminalReason: strOrNull(line.terminal_reason),
    apiErrorStatus: numOrNull(line.api_error_status),
  };
}

/** One parsed stdout line → a typed event; `null` when the value is not an object with a string `type`. */
export function parseCliEvent(value: unknown): CliEvent | null {
  const line = record(value);
  if (line === null || typeof line.type !== 'string') return null;
  const parentToolUseId = strOrNull(line.parent_tool_use_id);
  switch (line.type) {
    case 'system':
      return parseSystem(line);
    case 'assistant': {
      const message = record(line.message) ?? {};
      return {
        kind: 'assistant',
        messageId: strOr(message.id),
        parentToolUseId,
        blocks: array(message.content)
          .map(parseAssistantBlock)
          .filter((block): block is AssistantBlock => block !== null),
        synthetic: message.model === '<synthetic>',
        model: strOr(message.model),
        aborted: line.aborted === true,
      };
    }
    case 'user': {
      const content = record(line.message)?.content;
      const results: ToolResult[] = [];
      const texts: string[] = [];
      if (typeof content === 'string') texts.push(content);
      for (const item of array(content)) {
        const block = record(item);
        if (block?.type === 'tool_result') {
          results.push({
            toolUseId: strOr(block.tool_use_id),
            isError: block.is_error === true,
            text: contentText(block.content),
          });
        } else if (block?.type === 'text') {
          texts.push(strOr(block.text));
        }
      }
      return { kind: 'user', parentToolUseId, results, texts };
    }
    case 'stream_event': {
      const { delta, messageId } = parseStreamDelta(line.event);
      return {
        kind: 'stream',
        parentToolUseId,
        messageId: messageId ?? strOrNull(line.api_message_id),
        delta,
      };
    }
    case 'result':
      return parseResult(line);
    case 'control_response':
    case 'control_request':
    case 'control_cancel_request': {
      const message = parseControlMessage(line);
      return message === null ? { kind: 'ignored', type: line.type } : { kind: 'control', message };
    }
    case 'command_lifecycle':
      return { kind: 'ignored', type: line.type };
    default:
      return { kind: 'unknown', type: line.type };
  }
}
