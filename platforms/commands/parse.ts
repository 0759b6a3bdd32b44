import type { CommandSpec } from './spec.js';
import { COMMANDS, type CommandName, commandList } from './table.js';

// Chat commands typed as text. Pure.

/** Every word that runs a command, its aliases included, lower case. */
const BY_WORD: ReadonlyMap<string, CommandName> = new Map(
  commandList().flatMap(({ name, aliases = [] }) => [name, ...aliases].map((word) => [word, name] as const)),
);

export type TextCommand =
  | { kind: 'command'; command: CommandName; words?: string }
  /** `/stop now`: a command word with more after it. Nothing runs; the user is told how to use it. */
  | { kind: 'with_arguments'; command: CommandName }
  /** `/stats@OtherBot` in a group: meant for another bot, ignored. */
  | { kind: 'other_bot'; mention: string };

/**
 * `/stop`, `/stop@MyBot`, ` /STOP ` → a command. `/stop now` → a command with arguments (answered, never
 * run: `/clear the cache` must not forget every conversation). Anything else, `/usr/bin is slow` included, is a task.
 */
export function parseTextCommand(text: string, botName: string | null = null): TextCommand | null {
  const match = /^\/([a-zA-Z]+)(?:@(\w+))?(?:\s+(\S[\s\S]*))?$/.exec(text.trim());
  if (!match) return null;
  const command = BY_WORD.get(match[1]!.toLowerCase());
  if (!command) return null;
  const mention = match[2];
  if (mention !== undefined && botName !== null && mention.toLowerCase() !== botName.toLowerCase()) {
    return { kind: 'other_bot', mention };
  }
  const spec: CommandSpec = COMMANDS[command];
  if (match[3] === undefined || spec.ignoresWords === true) return { kind: 'command', command };
  if (spec.takesWords === true) return { kind: 'command', command, words: match[3].trim() };
  return { kind: 'with_arguments', command };
}
