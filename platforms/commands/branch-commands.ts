import type { DiffPart } from '../../sessions/index.js';
import { plural } from '../../src/common/index.js';
import type { CommandContext } from './spec.js';

// /diff, /merge and /discard (each as a reply to a branch's task), and /project.

/** A longer patch is sent as a file: a chat message is no place to read a large diff. */
const MAX_PATCH_CHARS = 3000;

const fence = (text: string, language = ''): string => `\`\`\`${language}\n${text}\n\`\`\``;

function statBlock(part: DiffPart): string {
  return part.stat === '' ? 'no changes' : fence(part.stat);
}

export async function diffBranch(context: CommandContext, replyTo: string): Promise<void> {
  const diff = await context.engine.branches.diff(context.ref(replyTo));
  if (diff.kind === 'unavailable') return context.answer(diff.reason);
  const { patch } = diff.vsParent;
  const lines = [
    `**Branch \`${diff.branch}\`** (\`${diff.path}\`)`,
    'Against the state its parent left:',
    statBlock(diff.vsParent),
    "Against the project's HEAD now:",
    diff.vsHead === null ? 'the project has no commit yet' : statBlock(diff.vsHead),
  ];
  if (patch.length > MAX_PATCH_CHARS) {
    await context.answer(lines.join('\n'));
    return context.answerFile(`The whole diff of ${diff.branch} against the state its parent left`, {
      name: `${diff.branch.replace('/', '-')}.diff`,
      data: new TextEncoder().encode(patch),
    });
  }
  if (patch !== '') lines.push(fence(patch, 'diff'));
  return context.answer(lines.join('\n'));
}

export async function mergeBranch(context: CommandContext, replyTo: string): Promise<void> {
  const merged = await context.engine.branches.merge(context.ref(replyTo));
  switch (merged.kind) {
    case 'unavailable':
      return context.answer(merged.reason);
    case 'nothing':
      return context.answer(`Branch \`${merged.branch}\` has nothing the main worktree lacks.`);
    case 'conflict':
      return context.answer(
        `⚠️ Branch \`${merged.branch}\` conflicts with the main worktree (\`${merged.into}\`) in ${plural(merged.files.length, 'file')}: ${merged.files.map((file) => `\`${file}\``).join(', ')}. Nothing was changed.`,
      );
    case 'merged': {
      const how =
        merged.style === 'squash'
          ? 'as uncommitted changes (MERGE_STYLE=squash): review and commit them there'
          : 'with a merge commit (MERGE_STYLE=merge)';
      return context.answer(
        `✅ Merged branch \`${merged.branch}\` into \`${merged.into}\` ${how}; ${plural(merged.files.length, 'file')}: ${merged.files.map((file) => `\`${file}\``).join(', ')}.`,
      );
    }
  }
}

export async function discardBranch(context: CommandContext, replyTo: string): Promise<void> {
  const discarded = await context.engine.branches.discard(context.ref(replyTo));
  if (discarded.kind === 'unavailable') return context.answer(discarded.reason);
  return context.answer(
    `🗑 Discarded branch \`${discarded.branch}\` and its worktree \`${discarded.path}\`. The conversation stays: a reply to it starts again from the state it began with.`,
  );
}

export async function chooseProject(context: CommandContext): Promise<void> {
  const projects = context.projects;
  const name = context.words.trim();
  if (projects.list().length === 0) {
    return context.answer(
      'No projects are configured (PROJECTS): every conversation works in the one workspace.',
    );
  }
  if (name === '') {
    const current = projects.current();
    const list = projects
      .list()
      .map(
        (project) =>
          `- \`${project.name}\`: ${project.path}${project.name === current?.name ? ' (this chat)' : ''}`,
      );
    return context.answer(
      [`**Projects** (\`/project name\` switches this chat's new conversations):`, ...list].join('\n'),
    );
  }
  const chosen = await projects.switchTo(name);
  if (chosen === null) {
    const names = projects
      .list()
      .map((project) => `\`${project.name}\``)
      .join(', ');
    return context.answer(`There is no project \`${name}\`; the projects are ${names}. Nothing changed.`);
  }
  return context.answer(
    `📁 New conversations in this chat now work in \`${chosen.name}\` (${chosen.path}); replies stay in their conversation's project.`,
  );
}
