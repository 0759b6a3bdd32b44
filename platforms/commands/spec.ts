import type {
  ChatPermissionMode,
  MessageRef,
  NodeSnapshot,
  PermissionDecision,
  SessionEngine,
} from '../../sessions/index.js';
import type { GatewayStatsSnapshot, ProxyStatsSnapshot } from '../../src/common/index.js';
import type { ChatFile, OutboxStats } from '../outbox/index.js';

// The shape of one chat command: everything the help text, the platforms' command menus, the text parser and
// the dispatch need to know about it, handler included. The table in table.ts holds one of these per command.

/** What a command may do, bound by the controller to the chat it came from. */
export interface CommandContext {
  readonly engine: Pick<SessionEngine, 'stats' | 'findNodeByMessage' | 'stop' | 'clear' | 'branches'>;
  /** The words after a command that takes them (`takesWords`): `/project web` → `web`; '' otherwise. */
  readonly words: string;
  /** The projects this chat may work in, and which one its new conversations use. */
  readonly projects: ProjectChoice;
  /** A message of this chat, as the engine refers to it. */
  ref(messageId: string): MessageRef;
  /** Answers in Markdown: in place for a slash command, as a reply to the command otherwise. */
  answer(markdown: string): Promise<void>;
  /** Answers with a file (a document) under a one-line caption, as a reply to the command. */
  answerFile(caption: string, file: ChatFile): Promise<void>;
  /** Cancels the transcription of the message replied to, or every one when `replyTo` is null; how many. */
  cancelTranscriptions(replyTo: string | null, options: { discard: boolean }): number;
  /** Answers the 🔐 question of the task replied to; the sentence to tell the user. */
  answerPermission(replyTo: string, decision: PermissionDecision): Promise<string>;
  /** Stops following cleared tasks, so nothing edits messages that are about to be deleted. */
  forgetTasks(nodeIds: readonly string[]): void;
  /** Deletes the relay's own messages of cleared tasks, in the background. */
  deleteBotMessages(removed: readonly NodeSnapshot[]): void;
  proxyStats(): ProxyStatsSnapshot;
  /** The API gateway's requests, or null when it is off. */
  gatewayStats(): GatewayStatsSnapshot | null;
  /** Every chat's outbox counters, summed. */
  chatStats(): OutboxStats;
  /** Per file when photos and files are taken, null when they are not. */
  readonly attachmentMaxBytes: number | null;
  /** This chat's /mode for new conversations (null: CLAUDE_PERMISSIONS decides), and setting it. */
  chatMode(): ChatPermissionMode | null;
  setChatMode(mode: ChatPermissionMode): Promise<void>;
  /** Sets the /mode of the conversation owning a message; the node, or undefined when none does. */
  setConversationMode(replyTo: string, mode: ChatPermissionMode): Promise<NodeSnapshot | undefined>;
}

export interface ProjectRef {
  name: string;
  path: string;
}

export interface ProjectChoice {
  list(): readonly ProjectRef[];
  /** Where this chat's new conversations work; null when no project is configured. */
  current(): ProjectRef | null;
  /** Switches this chat to the project of that name (any case); null when there is none. */
  switchTo(name: string): Promise<ProjectRef | null>;
}

/** A Discord slash command's definition, less its name (the table's key). */
export interface SlashCommandOptions {
  description: string;
}

interface CommandTexts {
  /** Other words that run it (`/start` is how Telegram opens a bot). */
  aliases?: readonly string[];
  /** Its line in the help text, or null when it has none. */
  help: string | null;
  /** How it is sent, told when words follow it: "send `/stop` …". */
  usage: string;
  /** Words after it are ignored rather than refused (a Telegram deep link sends `/start <payload>`). */
  ignoresWords?: true;
  /** Words after it are its argument (`context.words`), not a mistake. */
  takesWords?: true;
  /** Its description in Telegram's command menu (setMyCommands), or null to leave it out. */
  menu: string | null;
}

/**
 * What a reply means to the command, and so what its handler is given: `required` handlers always get the
 * message replied to (without one the user is told the usage), `ignored` ones never look.
 */
type Handled =
  | {
      reply: 'ignored';
      slash: SlashCommandOptions | null;
      run: (context: CommandContext) => Promise<void>;
    }
  | {
      reply: 'optional';
      slash: SlashCommandOptions | null;
      run: (context: CommandContext, replyTo: string | null) => Promise<void>;
    }
  | {
      reply: 'required';
      /** A slash command is never a reply, so it could only ever be told its usage. */
      slash: null;
      run: (context: CommandContext, replyTo: string) => Promise<void>;
    };

export type CommandSpec = CommandTexts & Handled;

/** Every command by name; the names are the words typed after `/`. */
export type CommandTable = Readonly<Record<string, CommandSpec>>;
