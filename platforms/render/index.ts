// The render model: engine progress → chat text in each platform's dialect, split to the platform's limit.
// Pure: no I/O, timers or environment.

export type { Dialect, Enclosure, MarkdownMarkup } from './dialect.js';
export { renderMarkdown } from './split.js';
export { renderFinal, renderStatus, retryNotice, waitNotice } from './status.js';
export { renderSteps, renderStepsFile, type StepEntry, type StepLog, subagentDetail } from './steps.js';
export {
  createTaskView,
  type PermissionView,
  type RetryView,
  reduceTaskView,
  type SubagentView,
  type TaskView,
  type ToolCallView,
} from './task-view.js';
export { wellFormed } from './text.js';
export type { ChatButton, Formatted, RenderLimits } from './types.js';
