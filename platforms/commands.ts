import type { EngineStats } from '../sessions/index.js';
import { formatDuration, formatMegabytes } from '../src/common/index.js';
import type { OutboxStats } from './outbox/index.js';
import type { CommandName } from './platform.js';
import type { ProviderStats, ProxyStatsSnapshot } from './ports.js';
import { wellFormed } from './render/index.js';

// Chat commands typed as text, and the texts the relay answers with. Pure.

const ALIASES: Record<string, CommandName> = {
  stop: 'stop',
  clear: 'clear',
  stats: 'stats',
  help: 'help',
  start: 'help',
  allow: 'allow',
  always: 'always',
  deny: 'deny',
};

export type TextCommand =
  | { kind: 'command'; command: CommandName }
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
  const command = ALIASES[match[1]!.toLowerCase()];
  if (!command) return null;
  const mention = match[2];
  if (mention !== undefined && botName !== null && mention.toLowerCase() !== botName.toLowerCase()) {
    return { kind: 'other_bot', mention };
  }
  // `/start <payload>` is how Telegram deep links open a bot: it still means "explain yourself".
  if (match[3] === undefined || command === 'help') return { kind: 'command', command };
  return { kind: 'with_arguments', command };
}

export function commandUsage(command: CommandName): string {
  const how =
    command === 'stop' || command === 'clear'
      ? `send \`/${command}\` alone for everything, or as a reply to the task it is about`
      : command === 'allow' || command === 'always' || command === 'deny'
        ? `send \`/${command}\` as a reply to the 🔐 question it answers`
        : `send \`/${command}\` alone`;
  return `\`/${command}\` takes nothing after it: ${how}. I did nothing with this message.`;
}

/** `attachmentMaxBytes`: the per-file limit when photos and files are taken, null when they are not. */
export function helpText(attachmentMaxBytes: number | null = null): string {
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
    '- `/stop`: stop everything, or only the task you reply to.',
    '- `/clear`: forget every conversation, or only the branch you reply to.',
    '- `/stats`: sessions, conversations and provider usage.',
    '- 🔐 When Claude asks before running a tool, tap **Allow**, **Always** (for the rest of that session) or **Deny**, or reply `/allow` or `/deny` to the question. No answer in time means deny.',
  ].join('\n');
}

export function formatStats(engine: EngineStats, proxy: ProxyStatsSnapshot, chat?: OutboxStats): string {
  const lines = [
    '**Relay stats**',
    `- Sessions: ${engine.running} running / ${engine.maxSessions} max, ${engine.queued} queued, ${engine.totalNodes} tasks in total`,
    `- Conversations: ${engine.trees}`,
    `- Tasks by state: ${
      Object.entries(engine.byState)
        .filter(([, count]) => count > 0)
        .map(([state, count]) => `${state} ${count}`)
        .join(', ') || 'none'
    }`,
    `- Tokens: ${engine.usage.inputTokens} in, ${engine.usage.outputTokens} out, ${engine.usage.cacheReadTokens} cache read`,
    `- Errors: ${engine.errors}`,
    `- Uptime: ${formatDuration(engine.uptimeMs)}`,
  ];
  if (chat) {
    lines.push(
      `- Chat messages: ${chat.sent} sent, ${chat.edited} edits (${chat.coalesced} merged), ${chat.rateLimited} rate limited, ${chat.retried} retried, ${chat.failed} failed`,
    );
  }
  if (proxy.providers.length === 0) {
    lines.push('- Providers: no requests yet');
  } else {
    for (const provider of proxy.providers) {
      lines.push(
        `- Provider \`${provider.provider}\`: ${provider.requests} requests, ${provider.inputTokens} tokens in, ${provider.outputTokens} out, ${provider.errors} errors, ${provider.rateLimited} rate limited`,
      );
      if (provider.live) lines.push(`  now: ${liveLine(provider.live)}`);
    }
  }
  return lines.join('\n');
}

/** How much of the provider's budget is in use right now, and whether anything waits for it. */
function liveLine(live: NonNullable<ProviderStats['live']>): string {
  const parts = [
    `${live.windowUsed}/${live.windowLimit} requests in the last ${Math.round(live.windowMs / 1000)} s`,
    `${live.active}/${live.maxConcurrency} streams open`,
  ];
  if (live.waiting > 0) parts.push(`${live.waiting} waiting for a stream`);
  if (live.coolDownMs > 0) parts.push(`rate limited for ${Math.ceil(live.coolDownMs / 1000)} s more`);
  return parts.join(', ');
}

/** The first `max` code points of a prompt on one line, for quoting it back to the user. */
export function promptExcerpt(prompt: string, max = 80): string {
  const points = [...wellFormed(prompt).replace(/\s+/g, ' ').trim()];
  return points.length > max ? `${points.slice(0, max).join('')}…` : points.join('');
}

export function interruptedNotice(prompt: string): string {
  return `⚠️ The relay restarted while this task was running, so it was interrupted: "${promptExcerpt(prompt)}". Reply to this message to continue the conversation from there.`;
}
