import { formatMegabytes } from '../../src/common/index.js';

// The prose around the command lines of /help. The command lines come from the table (table.ts).

/** `commandLines`: one Markdown list item per command; `attachmentMaxBytes` as in helpText. */
export function renderHelp(commandLines: readonly string[], attachmentMaxBytes: number | null): string {
  return [
    '**Claude Code relay**',
    'Send a message and it becomes a task for Claude Code; one status message shows its progress and then the answer.',
    '- **Reply** to any message of a task (yours or mine) to continue that conversation; a message that is not a reply starts a new one.',
    '- Voice notes are transcribed and treated exactly like the text they say.',
    ...(attachmentMaxBytes === null
      ? []
      : [
          `- Photos and files (up to ${formatMegabytes(attachmentMaxBytes)} each) are saved in the workspace for Claude to read; the caption is the task.`,
        ]),
    ...commandLines,
    '- 🔐 When Claude asks before running a tool, tap **Allow**, **Always** (for the rest of that session) or **Deny**, or reply `/allow` or `/deny` to the question. No answer in time means deny.',
  ].join('\n');
}
