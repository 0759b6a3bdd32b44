import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../../platforms/discord/index.js';
import {
  createTaskView,
  reduceTaskView,
  renderStatus,
  renderSteps,
  renderStepsFile,
  type TaskView,
} from '../../../platforms/render/index.js';
import { STEPS_KEPT } from '../../../platforms/render/steps.js';
import { telegramHtml } from '../../../platforms/telegram/index.js';
import type { NodeSnapshot, ProgressEvent } from '../../../sessions/types.js';
import { parseTelegramHtml } from '../../fakes/telegram-html.js';
import { hasLoneSurrogate, telegramHtmlProblems } from './oracle.js';

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
const node: NodeSnapshot = {
  id: 'n1',
  treeId: 't1',
  parentId: null,
  prompt: 'fix the tests',
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
const tg = { dialect: telegramHtml, maxLength: 4096 } as const;
const dc = { dialect: discordMarkdown, maxLength: 2000 } as const;
const expandable = telegramHtml.collapsible ?? null;
const fold = (events: ProgressEvent[], start: TaskView = createTaskView(node)) =>
  events.reduce(reduceTaskView, start);
const done = (text: string): ProgressEvent => ({
  type: 'outcome',
  outcome: { kind: 'done', text },
  usage: zero,
  costUsd: 0,
  durationMs: 10,
  model: null,
});

describe('steps of a task', () => {
  it('keeps, in order, thinking, narration, each tool call with its outcome, sub-agents, retries and permission answers', () => {
    const view = fold([
      { type: 'thinking', text: 'Look at the ' },
      { type: 'thinking', text: 'config first' },
      { type: 'text', text: 'Reading the config.' },
      { type: 'tool_call', toolUseId: 'a', name: 'Read', summary: 'src/config.ts' },
      { type: 'tool_result', toolUseId: 'a', isError: false, summary: '120 lines' },
      { type: 'retry', attempt: 1, maxRetries: 10, delayMs: 2000, status: 529, error: 'overloaded' },
      { type: 'subagent', taskId: 's', status: 'started', description: 'search usages' },
      { type: 'subagent', taskId: 's', status: 'progress', description: '', tool: 'Grep: loadConfig' },
      { type: 'subagent', taskId: 's', status: 'done', description: 'search usages' },
      { type: 'permission', requestId: 'r', toolName: 'Bash', summary: 'npm test', status: 'denied' },
      { type: 'tool_call', toolUseId: 'b', name: 'Bash', summary: 'npm test' },
      { type: 'tool_result', toolUseId: 'b', isError: true, summary: 'exit 1' },
      { type: 'text', text: 'The config is <fine>.' },
      done('The config is <fine>.'),
    ]);
    const [steps, ...more] = renderSteps(view.steps, 'The config is <fine>.', tg, expandable);
    expect(more).toEqual([]);
    expect(steps?.plain.split('\n')).toEqual([
      '🧭 How it went: 2 tool calls, 7 steps',
      '💭 Look at the config first',
      '💬 Reading the config.',
      '✔️ Read src/config.ts → 120 lines',
      '⚠️ provider overloaded, retrying in 2 s (attempt 1/10)',
      '🤖 Sub-agent search usages: done · 1 tool call',
      '🔐 Bash denied: npm test',
      '✖️ Bash npm test → exit 1',
    ]);
    // The answer's own words are not repeated among the steps.
    expect(steps?.plain).not.toContain('fine');
    expect(steps?.formatted.startsWith('<blockquote expandable>')).toBe(true);
    expect(telegramHtmlProblems(steps?.formatted ?? '')).toEqual([]);
  });

  it('gives no steps for a task that only answered', () => {
    const view = fold([{ type: 'text', text: 'Hello.' }, done('Hello.')]);
    expect(renderSteps(view.steps, 'Hello.', tg, expandable)).toEqual([]);
  });

  it('keeps the newest steps when there are too many, and says how many went', () => {
    const events: ProgressEvent[] = [];
    for (let index = 0; index < STEPS_KEPT + 25; index++) {
      events.push({ type: 'tool_call', toolUseId: `t${index}`, name: 'Read', summary: `file${index}.ts` });
    }
    const view = fold(events);
    const parts = renderSteps(view.steps, '', dc, null);
    const text = parts.map((part) => part.plain).join('\n');
    expect(text).toContain('… 25 earlier steps not kept');
    expect(text).not.toContain('file24.ts');
    expect(text).toContain(`file${STEPS_KEPT + 24}.ts`);
    for (const part of parts) expect(part.formatted.length).toBeLessThanOrEqual(2000);
  });

  it('as one steps.md file: every line the messages hold, unformatted, whatever its length', () => {
    const events: ProgressEvent[] = [];
    for (let index = 0; index < STEPS_KEPT + 25; index++) {
      events.push({ type: 'tool_call', toolUseId: `t${index}`, name: 'Read', summary: `file_${index}.ts` });
    }
    const view = fold(events);
    const file = renderStepsFile(view.steps, '', discordMarkdown);
    const messages = renderSteps(view.steps, '', dc, null);
    expect(messages.length).toBeGreaterThan(1);
    expect(file?.text).toBe(`${messages.map((part) => part.plain).join('\n')}\n`);
    expect(file?.text).toContain(`file_${STEPS_KEPT + 24}.ts`);
    expect(file?.caption.formatted).toBe(`**🧭 How it went: ${STEPS_KEPT} tool calls, ${STEPS_KEPT} steps**`);
    expect(renderStepsFile(fold([done('Hello.')]).steps, 'Hello.', discordMarkdown)).toBeNull();
  });

  it('always fits the platform and stays valid, whatever the steps (fast-check)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 3000 });
    const event: fc.Arbitrary<ProgressEvent> = fc.oneof(
      text.map((t) => ({ type: 'thinking' as const, text: t })),
      text.map((t) => ({ type: 'text' as const, text: t })),
      fc.record({
        type: fc.constant('tool_call' as const),
        toolUseId: fc.constantFrom('a', 'b', 'c'),
        name: fc.string({ maxLength: 60 }),
        summary: text,
      }),
      fc.record({
        type: fc.constant('tool_result' as const),
        toolUseId: fc.constantFrom('a', 'b', 'c'),
        isError: fc.boolean(),
        summary: text,
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const view = fold(events);
        for (const [limits, enclosure] of [
          [tg, expandable],
          [dc, null],
        ] as const) {
          for (const part of renderSteps(view.steps, '', limits, enclosure)) {
            expect(part.formatted.length).toBeLessThanOrEqual(limits.maxLength);
            expect(part.plain.length).toBeLessThanOrEqual(limits.maxLength);
            expect(hasLoneSurrogate(part.formatted)).toBe(false);
            if (limits === tg) expect(parseTelegramHtml(part.formatted).ok).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('live status: thinking, sub-agents, continuation', () => {
  it('shows up to 1,000 characters of the latest thought in a quote, not the earlier ones', () => {
    const long = `${'a'.repeat(600)} ${'b'.repeat(600)}`;
    const view = fold([
      { type: 'thinking', text: 'an older thought' },
      { type: 'tool_call', toolUseId: 'a', name: 'Read', summary: 'x' },
      { type: 'thinking', text: long },
    ]);
    const telegram = renderStatus(view, tg);
    const thought = telegram.plain.split('\n').find((line) => line.startsWith('💭'));
    expect(thought?.length).toBeGreaterThan(990);
    expect(thought).toContain('b'.repeat(600));
    expect(telegram.plain).not.toContain('older');
    expect(telegram.formatted).toContain('<blockquote>💭 <i>');
    const discord = renderStatus(view, dc).formatted;
    expect(discord).toMatch(/^> 💭 \*…a+ b{600}\*$/m);
  });

  it('gives each sub-agent its tool count and current tool while it works', () => {
    const view = fold([
      { type: 'subagent', taskId: 's', status: 'started', description: 'search usages' },
      { type: 'subagent', taskId: 's', status: 'progress', description: '', tool: 'Grep: loadConfig' },
      { type: 'subagent', taskId: 's', status: 'progress', description: '', tool: 'Read: src/a.ts' },
    ]);
    expect(renderStatus(view, dc).plain).toContain(
      '🤖 Sub-agent search usages: working · 2 tool calls · now Read: src/a.ts',
    );
    const finished = reduceTaskView(view, {
      type: 'subagent',
      taskId: 's',
      status: 'done',
      description: 'search usages',
    });
    expect(renderStatus(finished, dc).plain).toContain('🤖 Sub-agent search usages: done · 2 tool calls');
  });

  it('says on the first line which conversation a reply continues', () => {
    const view: TaskView = { ...createTaskView(node), continues: 'fix the flaky login test please' };
    expect(renderStatus(view, tg).plain.split('\n')[0]).toBe(
      '🔄 Running · ↪ continues fix the flaky login test please',
    );
    expect(renderStatus(createTaskView(node), tg).plain).not.toContain('continues');
  });
});
