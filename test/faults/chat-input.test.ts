import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandUsage, parseTextCommand } from '../../platforms/commands/index.js';
import { discordMarkdown } from '../../platforms/discord/index.js';
import { interruptedNotice, promptExcerpt } from '../../platforms/notices.js';
import {
  createTaskView,
  type Dialect,
  reduceTaskView,
  renderFinal,
  renderMarkdown,
  renderStatus,
  type TaskView,
} from '../../platforms/render/index.js';
import { telegramHtml } from '../../platforms/telegram/index.js';
import type { NodeSnapshot, ProgressEvent } from '../../sessions/types.js';
import { contentOf, hasLoneSurrogate, telegramHtmlProblems } from '../platforms/render/oracle.js';

// Bad chat input on the pure side: how typed commands with junk are read, and that anything a user types,
// echoed back into a status message, an answer or a notice, renders within the platform's limits as markup
// the platform accepts. The same inputs go through the whole relay in chat-input.e2e.test.ts.

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
const node: NodeSnapshot = {
  id: 'n1',
  treeId: 't1',
  parentId: null,
  prompt: 'x',
  state: 'running',
  queuePosition: null,
  sessionId: null,
  workingDirectory: '/w',
  messages: [],
  createdAt: 1000,
  startedAt: 1000,
  finishedAt: null,
  costUsd: 0,
  usage: zero,
  outcome: null,
};
const LIMITS = [
  { dialect: telegramHtml, maxLength: 4096 },
  { dialect: discordMarkdown, maxLength: 2000 },
] as const;

describe('typed commands with junk', () => {
  const cases: Array<[string, string | null, ReturnType<typeof parseTextCommand>]> = [
    ['/stop', null, { kind: 'command', command: 'stop' }],
    ['  /STOP  ', null, { kind: 'command', command: 'stop' }],
    ['/stop@relay_test_bot', 'relay_test_bot', { kind: 'command', command: 'stop' }],
    ['/stop now', null, { kind: 'with_arguments', command: 'stop' }],
    ['/clear the cache in src/', null, { kind: 'with_arguments', command: 'clear' }],
    ['/stats@OtherBot', 'relay_test_bot', { kind: 'other_bot', mention: 'OtherBot' }],
    ['/stats@OtherBot please', 'relay_test_bot', { kind: 'other_bot', mention: 'OtherBot' }],
    ['/start deep-link-payload', null, { kind: 'command', command: 'help' }],
    ['/usr/bin is slow, fix it', null, null],
    ['/frobnicate', null, null],
    ['/', null, null],
    ['', null, null],
    ['stop', null, null],
  ];
  it.each(cases)('reads %j (bot %j) as %j', (text, bot, expected) => {
    expect(parseTextCommand(text, bot)).toEqual(expected);
  });

  it('tells the user how a command is used instead of running it with junk after it', () => {
    expect(commandUsage('stop')).toBe(
      '`/stop` takes nothing after it: send `/stop` alone for everything, or as a reply to the task it is about. I did nothing with this message.',
    );
  });

  it('never throws and never reads plain text as a command (fast-check seed 4242)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const parsed = parseTextCommand(text, 'relay_test_bot');
        if (!text.trim().startsWith('/')) expect(parsed).toBeNull();
      }),
      { seed: 4242, numRuns: 2000 },
    );
  });
});

/** What users type at a chat bot when things go strange: markup soup, odd Unicode, whitespace, huge pastes. */
const MARKDOWN_CONTROL = '*_~`|>#[]()\\';
const chatInput: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...MARKDOWN_CONTROL), maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: fc.constantFrom(' ', '\n', '\t', '\u00a0', '\u200b', '\u2028', '\r'), maxLength: 50 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '**',
          '```',
          '`',
          '<b>',
          '</i>',
          '&amp;',
          '@everyone',
          '<@123>',
          '\uD800',
          '\uDFFF',
          '🙂',
          '\u202e',
          'é',
          '\u0301',
          '\n\n',
          '> ',
          '# ',
          '- ',
          '1. ',
          '[x](http://a)',
          '||',
        ),
        fc.string({ maxLength: 20 }),
      ),
      { maxLength: 60 },
    )
    .map((pieces) => pieces.join('')),
  fc.constantFrom('', ' ', MARKDOWN_CONTROL, MARKDOWN_CONTROL.repeat(5000), 'word '.repeat(10_000)),
);

const SEED = 20_261_123;
describe(`any chat input echoed back renders within limits (fast-check seed ${SEED})`, () => {
  const check = (text: string, maxLength: number, dialect: Dialect): void => {
    expect(text.length).toBeLessThanOrEqual(maxLength);
    if (dialect === telegramHtml) expect(telegramHtmlProblems(text)).toEqual([]);
    expect(hasLoneSurrogate(text)).toBe(false);
  };

  it('in the live status (thinking, streamed text, a tool call, a retry notice)', () => {
    fc.assert(
      fc.property(chatInput, (input) => {
        const events: ProgressEvent[] = [
          { type: 'thinking', text: input },
          { type: 'tool_call', toolUseId: 't', name: input, summary: input },
          { type: 'tool_result', toolUseId: 't', isError: true, summary: input },
          { type: 'retry', attempt: 1, maxRetries: 3, delayMs: 1000, status: 429, error: input },
          { type: 'text', text: input },
        ];
        const view: TaskView = events.reduce(reduceTaskView, { ...createTaskView(node), prompt: input });
        for (const limits of LIMITS) {
          const status = renderStatus(view, limits);
          check(status.formatted, limits.maxLength, limits.dialect);
          check(status.plain, limits.maxLength, discordMarkdown);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('in the final answer and in an error outcome, nothing lost', () => {
    fc.assert(
      fc.property(chatInput, fc.constantFrom('done', 'error'), (input, kind) => {
        const outcome =
          kind === 'done'
            ? { kind: 'done' as const, text: input }
            : { kind: 'error' as const, message: input };
        const view = reduceTaskView(createTaskView(node), {
          type: 'outcome',
          outcome,
          usage: zero,
          costUsd: 0.01,
          durationMs: 1234,
          model: null,
        });
        for (const limits of LIMITS) {
          const parts = renderFinal(view, limits);
          expect(parts.length).toBeGreaterThan(0);
          for (const part of parts) check(part.formatted, limits.maxLength, limits.dialect);
          if (kind === 'done' && input.trim() !== '' && !hasLoneSurrogate(input)) {
            const shown = contentOf(parts.map((part) => part.plain).join('\n'));
            expect(shown).toContain(contentOf(input));
          }
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('in notices that quote the prompt, and in Markdown answers to commands', () => {
    fc.assert(
      fc.property(chatInput, (input) => {
        expect([...promptExcerpt(input)].length).toBeLessThanOrEqual(81);
        for (const limits of LIMITS) {
          check(limits.dialect.escape(interruptedNotice(input)), 4096, limits.dialect);
          for (const part of renderMarkdown(`You said: ${input}`, limits)) {
            check(part.formatted, limits.maxLength, limits.dialect);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
