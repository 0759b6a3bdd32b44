import type { CliEvent } from './cli-events.js';
import type { ProgressEvent } from './types.js';

// Sub-agents (the Task tool) as progress: each one started, working, then done or failed exactly once, under
// the description it started with.

export interface SubagentTasks {
  fromTask(event: Extract<CliEvent, { kind: 'task' }>): ProgressEvent[];
  /** The sub-agent a tool use belongs to, for its own tool calls (the tool use id until the task is known). */
  taskOf(toolUseId: string): string;
}

const FINAL_STATUSES = new Set(['completed', 'failed', 'killed', 'stopped']);

export function createSubagentTasks(): SubagentTasks {
  const finished = new Set<string>();
  const byToolUse = new Map<string, string>();
  const descriptions = new Map<string, string>();

  return {
    fromTask(event) {
      if (finished.has(event.taskId)) return [];
      if (event.toolUseId !== null) byToolUse.set(event.toolUseId, event.taskId);
      if (event.phase === 'started') {
        descriptions.set(event.taskId, event.description);
        return [
          { type: 'subagent', taskId: event.taskId, status: 'started', description: event.description },
        ];
      }
      if (event.phase === 'progress') {
        return [
          { type: 'subagent', taskId: event.taskId, status: 'progress', description: event.description },
        ];
      }
      const status = event.status ?? '';
      if (!FINAL_STATUSES.has(status)) return [];
      finished.add(event.taskId);
      return [
        {
          type: 'subagent',
          taskId: event.taskId,
          status: status === 'completed' ? 'done' : 'failed',
          description: descriptions.get(event.taskId) ?? event.description,
        },
      ];
    },
    taskOf: (toolUseId) => byToolUse.get(toolUseId) ?? toolUseId,
  };
}
