import type { CommandContext, CommandSpec } from './spec.js';
import { COMMANDS, type CommandName } from './table.js';

// Runs a command from the table; the table's reply rule decides what its handler is given.

export function runCommand(
  name: CommandName,
  context: CommandContext,
  replyTo: string | null,
): Promise<void> {
  const command: CommandSpec = COMMANDS[name];
  switch (command.reply) {
    case 'ignored':
      return command.run(context);
    case 'optional':
      return command.run(context, replyTo);
    case 'required':
      return replyTo === null ? context.answer(commandUsage(name)) : command.run(context, replyTo);
  }
}

/** The answer to a command sent with words after it, or without the reply it needs: nothing was run. */
export function commandUsage(name: CommandName): string {
  return `\`/${name}\` takes nothing after it: send \`/${name}\` ${COMMANDS[name].usage}. I did nothing with this message.`;
}
