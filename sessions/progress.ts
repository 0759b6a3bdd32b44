import type { CliEvent } from './cli-events.js';
import { createStreamedBlocks } from './streamed-blocks.js';
import { createSubagentTasks } from './subagent-tasks.js';
import { summarizeToolInput, summarizeToolResult } from './tool-summary.js';
import type { ProgressEvent } from './types.js';

// CLI events → the platform-neutral progress model. Pure: the mapper keeps only what it needs to avoid counting
// text twice (streamed-blocks.ts) and to follow sub-agents (subagent-tasks.ts). Sub-agent events
// (parent_tool_use_id set) have no stream events; their tool calls show as sub-agent progress.

export interface ProgressMapper {
  map(event: CliEvent): ProgressEvent[];
}

export function createProgressMapper(options: { cwd?: string } = {}): ProgressMapper {
  const streamed = createStreamedBlocks();
  const subagents = createSubagentTasks();
  /** A `compacting` status was shown, so the boundary that ends it needs none. */
  let compacting = false;

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
            taskId: subagents.taskOf(event.parentToolUseId),
            status: 'progress',
            description: '',
            tool: summary === '' ? block.name : `${block.name}: ${summary}`,
          });
        }
        continue;
      }
      // Sub-agents' own words are not shown (the CLI does not print their final text either).
      if (event.parentToolUseId !== null || event.synthetic) continue;
      const rest = streamed.unseenPart(event.messageId, block.type, block.text);
      if (rest !== '') out.push({ type: block.type, text: rest });
    }
    return out;
  };

  return {
    map(event) {
      switch (event.kind) {
        case 'stream':
          return streamed.fromStream(event);
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
          return subagents.fromTask(event);
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
        case 'permission_mode':
          return [{ type: 'mode', mode: event.mode }];
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
