import type { ChatPermissionMode, PermissionDecision } from '../../sessions/index.js';
import { chooseProject, diffBranch, discardBranch, mergeBranch } from './branch-commands.js';
import { renderHelp } from './help-text.js';
import type { CommandContext, CommandSpec, CommandTable } from './spec.js';
import { formatStats } from './stats-text.js';
import { clearTasks, stopTasks } from './task-commands.js';

// Every chat command, once. The help text, Telegram's command menu, Discord's slash commands, the text
// parser and the dispatch are all read from here: a new command is one entry, and an entry without a
// handler does not compile. The order is the order of the help lines and menus.

const MODES: readonly ChatPermissionMode[] = ['default', 'acceptEdits', 'plan', 'bypass'];
const ALONE_OR_REPLY_TO_TASK = 'alone for everything, or as a reply to the task it is about';
const REPLY_TO_QUESTION = 'as a reply to the 🔐 question it answers';
const REPLY_TO_BRANCH = 'as a reply to a task of the branch it is about';

export const COMMANDS = {
  stop: {
    help: 'stop everything, or only the task you reply to.',
    usage: ALONE_OR_REPLY_TO_TASK,
    menu: 'Stop all tasks, or the one you reply to',
    slash: { description: 'Stop every running and queued task' },
    reply: 'optional',
    run: stopTasks,
  },
  clear: {
    help: 'forget every conversation, or only the branch you reply to.',
    usage: ALONE_OR_REPLY_TO_TASK,
    menu: 'Forget all conversations, or the branch you reply to',
    slash: { description: 'Stop everything and forget every conversation' },
    reply: 'optional',
    run: clearTasks,
  },
  stats: {
    help: 'sessions, conversations and provider usage.',
    usage: 'alone',
    menu: 'Sessions, conversations, provider usage',
    slash: { description: 'Sessions, conversations, provider usage' },
    reply: 'ignored',
    run: (context) =>
      context.answer(
        formatStats(
          context.engine.stats(),
          context.proxyStats(),
          context.chatStats(),
          context.gatewayStats(),
        ),
      ),
  },
  diff: {
    help: 'as a reply: what that branch changed (against its parent and the project).',
    usage: REPLY_TO_BRANCH,
    menu: 'What the branch you reply to changed',
    slash: null,
    reply: 'required',
    run: diffBranch,
  },
  merge: {
    help: "as a reply: bring that branch's changes into the project's main worktree.",
    usage: REPLY_TO_BRANCH,
    menu: 'Merge the branch you reply to',
    slash: null,
    reply: 'required',
    run: mergeBranch,
  },
  discard: {
    help: "as a reply: remove that branch's worktree and git branch.",
    usage: REPLY_TO_BRANCH,
    menu: 'Discard the branch you reply to',
    slash: null,
    reply: 'required',
    run: discardBranch,
  },
  project: {
    help: "list the projects, or `/project name`: this chat's new conversations work there.",
    usage: 'alone to list the projects, or with the name of one',
    takesWords: true,
    menu: 'List projects or switch this chat',
    slash: { description: 'List the projects this chat may work in' },
    reply: 'ignored',
    run: chooseProject,
  },
  help: {
    aliases: ['start'],
    help: null,
    usage: 'alone',
    ignoresWords: true,
    menu: 'How to use this bot',
    slash: null,
    reply: 'ignored',
    run: (context) => context.answer(helpText(context.attachmentMaxBytes)),
  },
  mode: {
    help: 'how tool calls are approved: `default` (asks you), `acceptEdits` (asks for all but file edits), `plan` (plans first, then asks you to approve the plan), `bypass` (asks nothing); as a reply for that conversation, alone for this chat’s new ones.',
    usage:
      'with one of default, acceptEdits, plan, bypass: alone for new conversations, or as a reply to a task for its conversation',
    takesWords: true,
    menu: null,
    slash: null,
    reply: 'optional',
    run: setMode,
  },
  // Answers to a 🔐 question; the help text explains them with its buttons.
  allow: {
    help: null,
    usage: REPLY_TO_QUESTION,
    menu: null,
    slash: null,
    reply: 'required',
    run: answerPermission('allow'),
  },
  always: {
    help: null,
    usage: REPLY_TO_QUESTION,
    menu: null,
    slash: null,
    reply: 'required',
    run: answerPermission('always'),
  },
  deny: {
    help: null,
    usage: REPLY_TO_QUESTION,
    menu: null,
    slash: null,
    reply: 'required',
    run: answerPermission('deny'),
  },
} satisfies CommandTable;

export type CommandName = keyof typeof COMMANDS;

export type NamedCommand = CommandSpec & { readonly name: CommandName };

/** The table's entries in its order, each with its name. */
export function commandList(): NamedCommand[] {
  // Object.keys types its result as string[]; these are exactly the table's keys.
  return (Object.keys(COMMANDS) as CommandName[]).map((name) => ({ name, ...COMMANDS[name] }));
}

/**
 * What /help answers. It lives beside the table because the help entry shows it.
 * `attachmentMaxBytes`: the per-file limit when photos and files are taken, null when they are not.
 */
export function helpText(attachmentMaxBytes: number | null = null): string {
  const lines = commandList().flatMap(({ name, help }) => (help === null ? [] : [`- \`/${name}\`: ${help}`]));
  return renderHelp(lines, attachmentMaxBytes);
}

function answerPermission(decision: PermissionDecision) {
  return async (context: CommandContext, replyTo: string): Promise<void> =>
    context.answer(await context.answerPermission(replyTo, decision));
}

/** `/mode <mode>`: for the conversation replied to, or this chat's new ones; alone, says which applies. */
async function setMode(context: CommandContext, replyTo: string | null): Promise<void> {
  const typed = context.words.trim().toLowerCase();
  const mode = MODES.find((candidate) => candidate.toLowerCase() === typed);
  if (typed !== '' && mode === undefined) {
    return context.answer(
      `\`/mode\` takes one of ${MODES.map((m) => `\`${m}\``).join(', ')}; \`${context.words.trim()}\` is none of them. Nothing changed.`,
    );
  }
  if (mode === undefined) {
    const current = context.chatMode();
    return context.answer(
      `New conversations here run in ${current === null ? 'the relay’s default mode (CLAUDE_PERMISSIONS)' : `\`${current}\` mode`}. Send \`/mode\` with one of ${MODES.map((m) => `\`${m}\``).join(', ')}: alone for new conversations, or as a reply to a task for its conversation.`,
    );
  }
  if (replyTo === null) {
    await context.setChatMode(mode);
    return context.answer(`New conversations here now run in \`${mode}\` mode.`);
  }
  const node = await context.setConversationMode(replyTo, mode);
  if (node === undefined) {
    return context.answer(
      'That message is not part of a task: reply to a task’s message, or send `/mode` alone.',
    );
  }
  return context.answer(`This conversation now runs in \`${mode}\` mode: replies to it start in it.`);
}
