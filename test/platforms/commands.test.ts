import { describe, expect, it } from 'vitest';
import { memoryChatSettings } from '../../platforms/chat-modes.js';
import {
  COMMANDS,
  type CommandContext,
  type CommandTable,
  commandList,
  commandUsage,
  discordSlashCommands,
  helpText,
  parseTextCommand,
  runCommand,
  telegramMenu,
} from '../../platforms/commands/index.js';
import { formatStats } from '../../platforms/commands/stats-text.js';
import { DISCORD_COMMANDS, TELEGRAM_COMMANDS } from '../../platforms/index.js';
import { createProjectBook } from '../../platforms/project-choice.js';
import type { NodeSnapshot } from '../../sessions/index.js';
import { createLogger } from '../../src/log.js';

// The command table is the one source: the help text, Telegram's menu, Discord's slash commands and the text
// parser are read from it, and a command without a handler does not compile (checked by `tsc -p .`).

const names = (list: readonly { name: string }[]): string[] => list.map((command) => command.name);

/** The commands the help text has a line for, in order. */
function helpLines(text: string): Array<{ name: string; help: string }> {
  return [...text.matchAll(/^- `\/(\w+)`: (.*)$/gm)].map((match) => ({ name: match[1]!, help: match[2]! }));
}

describe('one command table', () => {
  it('the help text has a line for exactly the commands with a help line, in table order', () => {
    const expected = commandList().flatMap(({ name, help }) => (help === null ? [] : [{ name, help }]));
    expect(helpLines(helpText(null))).toEqual(expected);
    expect(helpLines(helpText(20 * 1024 * 1024))).toEqual(expected);
    expect(names(expected)).toEqual([
      'stop',
      'clear',
      'stats',
      'diff',
      'merge',
      'discard',
      'project',
      'mode',
    ]);
  });

  it("Telegram's menu lists exactly the commands with a menu description", () => {
    const expected = commandList().flatMap(({ name, menu }) =>
      menu === null ? [] : [{ command: name, description: menu }],
    );
    expect(telegramMenu()).toEqual(expected);
    expect(TELEGRAM_COMMANDS).toEqual(expected);
  });

  it("Discord's slash commands are exactly the commands with slash options", () => {
    const expected = commandList().flatMap(({ name, slash }) => (slash === null ? [] : [{ name, ...slash }]));
    expect(discordSlashCommands()).toEqual(expected);
    expect(DISCORD_COMMANDS).toEqual(expected);
  });

  it('no list names a command the table does not have, and the parser reads every name and alias', () => {
    const table = Object.keys(COMMANDS);
    const listed = [
      ...names(helpLines(helpText(null))),
      ...telegramMenu().map((entry) => entry.command),
      ...names(discordSlashCommands()),
    ];
    expect(listed.filter((name) => !table.includes(name))).toEqual([]);
    for (const { name, aliases = [] } of commandList()) {
      for (const word of [name, ...aliases]) {
        expect(parseTextCommand(`/${word}`)).toEqual({ kind: 'command', command: name });
      }
    }
  });

  it('takes no inherited object keys for commands', () => {
    expect(parseTextCommand('/constructor')).toBeNull();
    expect(parseTextCommand('/toString')).toBeNull();
  });

  it('has a handler for every command', () => {
    for (const command of commandList()) expect(typeof command.run).toBe('function');
  });

  it('does not compile an entry without a handler, a reply-only slash command, or an unknown command', () => {
    const withoutHandler = {
      ping: {
        help: 'answers pong.',
        usage: 'alone',
        menu: null,
        slash: null,
        reply: 'ignored',
        run: async () => {},
      },
      // @ts-expect-error: an entry needs `run`, its handler
      pong: { help: null, usage: 'alone', menu: null, slash: null, reply: 'ignored' },
    } satisfies CommandTable;
    const replyOnlySlash = {
      // @ts-expect-error: a slash command is never a reply, so a command that needs one cannot be one
      answer: {
        help: null,
        usage: 'as a reply',
        menu: null,
        slash: { description: 'Answer' },
        reply: 'required',
        run: async (_context: CommandContext, _replyTo: string) => {},
      },
    } satisfies CommandTable;
    // @ts-expect-error: only the table's commands can be dispatched
    const unknown = () => runCommand('ping', recordingContext().context, null);
    expect([withoutHandler, replyOnlySlash, unknown]).toHaveLength(3);
  });
});

/** A context that records what a command did; the engine is not reached by the commands under test. */
function recordingContext(options: { word?: string; knownReply?: boolean } = {}) {
  const answers: string[] = [];
  const modes: string[] = [];
  const permissions: Array<{ replyTo: string; decision: string }> = [];
  const unused = (): never => {
    throw new Error('not used in this test');
  };
  const context: CommandContext = {
    engine: {
      stats: unused,
      findNodeByMessage: unused,
      stop: unused,
      clear: unused,
      branches: { diff: unused, merge: unused, discard: unused },
    },
    words: options.word ?? '',
    projects: createProjectBook([], memoryChatSettings(), createLogger('silent', [])).forChat('test:c'),
    ref: (messageId) => ({ platform: 'test', chatId: 'c', messageId }),
    answer: async (markdown) => {
      answers.push(markdown);
    },
    answerFile: unused,
    cancelTranscriptions: () => 0,
    answerPermission: async (replyTo, decision) => {
      permissions.push({ replyTo, decision });
      return 'Allowed.';
    },
    forgetTasks: unused,
    deleteBotMessages: unused,
    proxyStats: unused,
    gatewayStats: unused,
    chatStats: unused,
    attachmentMaxBytes: null,
    chatMode: () => null,
    setChatMode: async (mode) => {
      modes.push(`chat:${mode}`);
    },
    setConversationMode: async (replyTo, mode) => {
      if (options.knownReply === false) return undefined;
      modes.push(`${replyTo}:${mode}`);
      return { id: 'n' } as NodeSnapshot; // only its presence is read
    },
  };
  return { context, answers, permissions, modes };
}

describe('dispatch', () => {
  it('answers a command that needs a reply with its usage when there is none, and runs nothing', async () => {
    const { context, answers, permissions } = recordingContext();
    await runCommand('deny', context, null);
    expect(answers).toEqual([commandUsage('deny')]);
    expect(permissions).toEqual([]);
    expect(commandUsage('deny')).toBe(
      '`/deny` takes nothing after it: send `/deny` as a reply to the 🔐 question it answers. I did nothing with this message.',
    );
  });

  it('gives a command that needs a reply the message replied to', async () => {
    const { context, answers, permissions } = recordingContext();
    await runCommand('always', context, '42');
    expect(permissions).toEqual([{ replyTo: '42', decision: 'always' }]);
    expect(answers).toEqual(['Allowed.']);
  });

  it('answers /help with the help text, whatever it replies to', async () => {
    const { context, answers } = recordingContext();
    await runCommand('help', context, '7');
    expect(answers).toEqual([helpText(null)]);
  });
});

describe('/project', () => {
  const projects = [
    { name: 'api', path: '/srv/api' },
    { name: 'Web', path: '/srv/web' },
  ];

  it('takes the project name after it; other commands still refuse words', () => {
    expect(parseTextCommand('/project  web ')).toEqual({ kind: 'command', command: 'project', words: 'web' });
    expect(parseTextCommand('/project')).toEqual({ kind: 'command', command: 'project' });
    expect(parseTextCommand('/merge now')).toEqual({ kind: 'with_arguments', command: 'merge' });
  });

  it('lists the projects, switches this chat only, and refuses an unknown name without changing anything', async () => {
    const book = createProjectBook(projects, memoryChatSettings(), createLogger('silent', []));
    const { context, answers } = recordingContext();
    const here = { ...context, projects: book.forChat('telegram:1') };
    await runCommand('project', here, null);
    expect(answers.at(-1)).toContain('- `api`: /srv/api (this chat)');
    await runCommand('project', { ...here, words: 'WEB' }, null);
    expect(answers.at(-1)).toContain('now work in `Web` (/srv/web)');
    expect(book.workspaceOf('telegram:1')).toBe('/srv/web');
    expect(book.workspaceOf('telegram:2')).toBeUndefined();
    await runCommand('project', { ...here, words: 'nope' }, null);
    expect(answers.at(-1)).toBe(
      'There is no project `nope`; the projects are `api`, `Web`. Nothing changed.',
    );
    expect(book.workspaceOf('telegram:1')).toBe('/srv/web');
  });

  it('says so when no project is configured', async () => {
    const { context, answers } = recordingContext();
    await runCommand('project', { ...context, words: 'api' }, null);
    expect(answers).toEqual([
      'No projects are configured (PROJECTS): every conversation works in the one workspace.',
    ]);
  });
});

describe('/mode', () => {
  it('reads its word in any case, and refuses any other word without changing anything', async () => {
    expect(parseTextCommand('/mode plan')).toEqual({ kind: 'command', command: 'mode', words: 'plan' });
    expect(parseTextCommand('/mode')).toEqual({ kind: 'command', command: 'mode' });
    const any = recordingContext({ word: 'ACCEPTEDITS' });
    await runCommand('mode', any.context, null);
    expect(any.modes).toEqual(['chat:acceptEdits']);
    const wrong = recordingContext({ word: 'yolo' });
    await runCommand('mode', wrong.context, '42');
    expect(wrong.modes).toEqual([]);
    expect(wrong.answers).toEqual([
      '`/mode` takes one of `default`, `acceptEdits`, `plan`, `bypass`; `yolo` is none of them. Nothing changed.',
    ]);
  });

  it('sets the chat’s mode alone, the conversation’s as a reply, and says which applies with no word', async () => {
    const chat = recordingContext({ word: 'plan' });
    await runCommand('mode', chat.context, null);
    expect(chat.modes).toEqual(['chat:plan']);
    expect(chat.answers).toEqual(['New conversations here now run in `plan` mode.']);
    const conversation = recordingContext({ word: 'bypass' });
    await runCommand('mode', conversation.context, '42');
    expect(conversation.modes).toEqual(['42:bypass']);
    expect(conversation.answers[0]).toContain('This conversation now runs in `bypass` mode');
    const unknown = recordingContext({ word: 'default', knownReply: false });
    await runCommand('mode', unknown.context, '43');
    expect(unknown.answers[0]).toContain('That message is not part of a task');
    const asked = recordingContext();
    await runCommand('mode', asked.context, null);
    expect(asked.modes).toEqual([]);
    expect(asked.answers[0]).toContain(
      'New conversations here run in the relay’s default mode (CLAUDE_PERMISSIONS)',
    );
  });
});

describe('/stats', () => {
  it('shows the API gateway when it runs, and nothing of it when it is off', () => {
    const engine = {
      running: 1,
      queued: 0,
      totalNodes: 3,
      trees: 2,
      byState: { queued: 0, running: 1, done: 2, error: 0, stopped: 0, interrupted: 0 },
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheCreationTokens: 0 },
      costUsd: 0,
      errors: 0,
      uptimeMs: 65_000,
      maxSessions: 10,
    };
    const gateway = { active: 1, queued: 2, answered: 40, failed: 1, p50Ms: 3200, p95Ms: 12_400 };
    expect(formatStats(engine, { providers: [] }, undefined, gateway)).toContain(
      '- API gateway: 1 running, 2 queued, 40 answered, 1 failed, answered in 3.2 s (p50) / 12 s (p95)',
    );
    expect(formatStats(engine, { providers: [] }, undefined, null)).not.toContain('API gateway');
    expect(formatStats(engine, { providers: [] })).not.toContain('worktrees');
    expect(
      formatStats({ ...engine, worktrees: { count: 3, bytes: 120 * 1024 * 1024 } }, { providers: [] }),
    ).toContain('- Branch worktrees: 3, 120.0 MB on disk');
  });
});
