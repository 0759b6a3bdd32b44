import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../../platforms/discord/index.js';
import {
  createTaskView,
  type Dialect,
  reduceTaskView,
  renderFinal,
  renderStatus,
  type TaskView,
} from '../../../platforms/render/index.js';
import { telegramHtml } from '../../../platforms/telegram/index.js';
import { stateOf } from '../../../sessions/outcome.js';
import type { NodeSnapshot, Outcome, ProgressEvent } from '../../../sessions/types.js';
import { contentOf, hasLoneSurrogate, telegramHtmlProblems } from './oracle.js';

const zero = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
const node: NodeSnapshot = {
  id: 'n1',
  treeId: 't1',
  parentId: null,
  prompt: 'fix the tests',
  state: 'queued',
  queuePosition: 2,
  sessionId: null,
  workingDirectory: '/w',
  messages: [],
  createdAt: 1000,
  startedAt: null,
  finishedAt: null,
  costUsd: 0,
  usage: zero,
  outcome: null,
};
const tg = { dialect: telegramHtml, maxLength: 4096 } as const;
const dc = { dialect: discordMarkdown, maxLength: 2000 } as const;
const fold = (events: ProgressEvent[], start: TaskView = createTaskView(node)) =>
  events.reduce(reduceTaskView, start);

describe('task view and live status', () => {
  it('shows the queue position, then running progress: thinking, tools with summaries, sub-agents, preview', () => {
    expect(renderStatus(createTaskView(node), tg).plain).toBe('📋 Queued (position 2)');
    const view = fold([
      { type: 'state', state: 'running', queuePosition: null },
      { type: 'thinking', text: 'I should read the <config> first' },
      { type: 'tool_call', toolUseId: 'a', name: 'Read', summary: 'src/config.ts' },
      { type: 'tool_result', toolUseId: 'a', isError: false, summary: '120 lines' },
      { type: 'tool_call', toolUseId: 'b', name: 'Bash', summary: 'npm test' },
      { type: 'tool_result', toolUseId: 'b', isError: true, summary: 'exit 1' },
      { type: 'subagent', taskId: 's', status: 'started', description: 'search usages' },
      { type: 'text', text: 'The failing test is **config**' },
    ]);
    const status = renderStatus(view, tg);
    expect(status.plain.split('\n')).toEqual([
      '🔄 Running',
      '💭 I should read the <config> first',
      '✔️ Read src/config.ts',
      '✖️ Bash npm test → exit 1',
      '🤖 Sub-agent search usages: started',
      '✍️ The failing test is **config**',
    ]);
    expect(status.formatted).toContain('<code>src/config.ts</code>');
    expect(status.formatted).toContain('&lt;config&gt;');
    expect(telegramHtmlProblems(status.formatted)).toEqual([]);
  });

  it('joins streamed deltas of one block directly and starts a new paragraph after a tool call', () => {
    const view = fold([
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo.' },
      { type: 'tool_call', toolUseId: 'a', name: 'Read', summary: 'x' },
      { type: 'text', text: 'Next' },
    ]);
    expect(view.answer).toBe('Hello.\n\nNext');
  });

  it('shows a proxy retry notice until progress resumes', () => {
    const retrying = fold([
      { type: 'state', state: 'running', queuePosition: null },
      { type: 'retry', attempt: 2, maxRetries: 10, delayMs: 11_500, status: 429, error: 'Too Many Requests' },
    ]);
    expect(renderStatus(retrying, dc).plain).toContain(
      'provider rate limited, retrying in 12 s (attempt 2/10)',
    );
    const resumed = reduceTaskView(retrying, { type: 'text', text: 'ok' });
    expect(renderStatus(resumed, dc).plain).not.toContain('retrying');
  });

  it('says why the relay’s proxy holds the request (429, rate window, busy slots) until progress resumes', () => {
    const running: ProgressEvent = { type: 'state', state: 'running', queuePosition: null };
    const limited = fold([
      running,
      {
        type: 'provider_wait',
        provider: 'nvidia_nim',
        label: 'NVIDIA NIM',
        reason: 'rate_limited',
        delayMs: 11_200,
        attempt: 1,
        maxRetries: 3,
      },
    ]);
    expect(renderStatus(limited, tg).plain.split('\n')).toEqual([
      '🔄 Running',
      '⏳ NVIDIA NIM rate limited: retrying in 12 s (retry 1/3)',
    ]);
    const windowed = fold([
      running,
      {
        type: 'provider_wait',
        provider: 'open_router',
        label: 'OpenRouter',
        reason: 'rate_window',
        delayMs: 23_000,
        attempt: null,
        maxRetries: null,
      },
    ]);
    expect(renderStatus(windowed, dc).plain).toContain(
      '⏳ request limit of OpenRouter reached (PROVIDER_RATE_LIMIT): next request in 23 s',
    );
    const handedOn = fold([
      running,
      {
        type: 'provider_wait',
        provider: 'nvidia_nim',
        label: 'NVIDIA NIM',
        reason: 'fallback',
        delayMs: null,
        attempt: null,
        maxRetries: null,
        fallback: { cause: 'rate limited or busy for 30 s', next: 'OpenRouter deepseek/deepseek-r1' },
      },
    ]);
    expect(renderStatus(handedOn, tg).plain).toContain(
      '⏳ NVIDIA NIM rate limited or busy for 30 s: answering with OpenRouter deepseek/deepseek-r1',
    );
    const busy = fold([
      running,
      {
        type: 'provider_wait',
        provider: 'lmstudio',
        label: 'LM Studio',
        reason: 'busy',
        delayMs: null,
        attempt: null,
        maxRetries: null,
      },
    ]);
    expect(renderStatus(busy, dc).plain).toContain(
      '⏳ all streams to LM Studio busy (PROVIDER_MAX_CONCURRENCY): waiting for one',
    );
    expect(renderStatus(reduceTaskView(busy, { type: 'thinking', text: 'hm' }), dc).plain).not.toContain(
      '⏳',
    );
    // The request went out: the notice goes at once, before the first token arrives.
    const sent = reduceTaskView(busy, {
      type: 'provider_wait',
      provider: 'lmstudio',
      label: 'LM Studio',
      reason: 'over',
      delayMs: null,
      attempt: null,
      maxRetries: null,
    });
    expect(renderStatus(sent, dc).plain).not.toContain('⏳');
    // The CLI retrying itself supersedes the proxy's story.
    const cliRetry = reduceTaskView(limited, {
      type: 'retry',
      attempt: 1,
      maxRetries: 10,
      delayMs: 5000,
      status: 429,
      error: 'rate limited',
    });
    expect(renderStatus(cliRetry, dc).plain).not.toContain('⏳');
    const ended = reduceTaskView(limited, {
      type: 'outcome',
      outcome: { kind: 'stopped', partialText: '' },
      usage: zero,
      costUsd: 0,
      durationMs: 5,
      model: null,
    });
    expect(renderStatus(ended, dc).plain).not.toContain('⏳');
  });

  it('ends with a one-line footer: duration, tokens and cost', () => {
    const view = fold([
      { type: 'state', state: 'running', queuePosition: null },
      {
        type: 'outcome',
        outcome: { kind: 'done', text: 'All green.' },
        usage: { inputTokens: 1200, outputTokens: 3400, cacheReadTokens: 10_000, cacheCreationTokens: 0 },
        costUsd: 0.0123,
        durationMs: 72_000,
        model: null,
      },
    ]);
    const lines = renderStatus(view, dc).plain.split('\n');
    expect(lines[0]).toBe('✅ Done');
    expect(lines.at(-1)).toBe('1 min 12 s · 11k in / 3.4k out tokens · $0.0123');
  });

  it('leaves the cost out when there is none to report, and names the model that answered (through the proxy)', () => {
    const view = fold([
      { type: 'state', state: 'running', queuePosition: null },
      {
        type: 'outcome',
        outcome: { kind: 'done', text: 'All green.' },
        usage: { inputTokens: 1200, outputTokens: 3400, cacheReadTokens: 0, cacheCreationTokens: 0 },
        costUsd: 0,
        durationMs: 2_500,
        model: 'moonshotai/kimi-k2-instruct',
      },
    ]);
    // Through the proxy the model named is the provider's: which one actually answered.
    expect(renderStatus(view, dc).plain.split('\n').at(-1)).toBe(
      '2.5 s · 1.2k in / 3.4k out tokens · moonshotai/kimi-k2-instruct',
    );
  });

  it('rebuilds the view from a snapshot after a restart', () => {
    const done = createTaskView({
      ...node,
      state: 'interrupted',
      queuePosition: null,
      startedAt: 5000,
      finishedAt: 9000,
      outcome: { kind: 'interrupted', reason: 'the relay restarted while this task ran' },
    });
    expect(renderStatus(done, tg).plain).toContain('⚠️ Interrupted\nthe relay restarted while this task ran');
    expect(renderFinal(done, tg)[0]?.plain).toBe('⚠️ Interrupted: the relay restarted while this task ran');
  });

  it('keeps only the recent tool calls and says how many are hidden', () => {
    const events: ProgressEvent[] = Array.from({ length: 40 }, (_, i) => ({
      type: 'tool_call',
      toolUseId: `t${i}`,
      name: 'Read',
      summary: `file${i}.ts`,
    }));
    const status = renderStatus(fold(events), dc).plain;
    expect(status).toContain('34 earlier tool calls');
    expect(status).toContain('file39.ts');
    expect(status).not.toContain('file33.ts');
  });

  const SEED = 99_173;
  it(`always fits one message, whatever the events (fast-check seed ${SEED})`, () => {
    const big = fc.string({ unit: 'binary', maxLength: 3000 });
    const event: fc.Arbitrary<ProgressEvent> = fc.oneof(
      fc.record({ type: fc.constant('thinking' as const), text: big }),
      fc.record({ type: fc.constant('text' as const), text: big }),
      fc.record({ type: fc.constant('tool_call' as const), toolUseId: fc.string(), name: big, summary: big }),
      fc.record({
        type: fc.constant('tool_result' as const),
        toolUseId: fc.string(),
        isError: fc.boolean(),
        summary: big,
      }),
      fc.record({
        type: fc.constant('subagent' as const),
        taskId: fc.string(),
        status: fc.constantFrom('started' as const, 'progress' as const, 'done' as const, 'failed' as const),
        description: big,
      }),
      fc.record({
        type: fc.constant('retry' as const),
        attempt: fc.nat(),
        maxRetries: fc.nat(),
        delayMs: fc.nat(),
        status: fc.option(fc.integer({ min: 400, max: 599 })),
        error: big,
      }),
      fc.record({
        type: fc.constant('provider_wait' as const),
        provider: big,
        label: big,
        reason: fc.constantFrom(
          'rate_limited' as const,
          'rate_window' as const,
          'busy' as const,
          'over' as const,
        ),
        delayMs: fc.option(fc.nat()),
        attempt: fc.option(fc.nat()),
        maxRetries: fc.option(fc.nat()),
      }),
      fc.record({
        type: fc.constant('outcome' as const),
        outcome: fc.oneof(
          fc.record({ kind: fc.constant('error' as const), message: big }),
          fc.record({ kind: fc.constant('done' as const), text: big }),
          fc.record({ kind: fc.constant('stopped' as const), partialText: big }),
        ),
        usage: fc.constant(zero),
        costUsd: fc.double({ min: 0, max: 100, noNaN: true }),
        durationMs: fc.nat(),
        model: fc.option(fc.string()),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 30 }),
        fc.constantFrom<Dialect>(telegramHtml, discordMarkdown),
        fc.integer({ min: 100, max: 4096 }),
        (events, dialect, maxLength) => {
          const view = fold(events);
          const status = renderStatus(view, { dialect, maxLength });
          expect(status.formatted.length).toBeLessThanOrEqual(maxLength);
          expect(status.plain.length).toBeLessThanOrEqual(maxLength);
          expect(hasLoneSurrogate(status.formatted)).toBe(false);
          if (dialect === telegramHtml) expect(telegramHtmlProblems(status.formatted)).toEqual([]);
          for (const part of renderFinal(view, { dialect, maxLength })) {
            expect(part.formatted.length).toBeLessThanOrEqual(maxLength);
            if (dialect === telegramHtml) expect(telegramHtmlProblems(part.formatted)).toEqual([]);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('one state per outcome', () => {
  it('a task shows the state the engine records (and /stats counts) for every way it can end', () => {
    const outcomes: Outcome[] = [
      { kind: 'done', text: 'ok' },
      { kind: 'error', message: 'no' },
      { kind: 'stopped', partialText: '' },
      { kind: 'timed_out', idleMs: 600_000, partialText: '' },
      { kind: 'crashed', exitCode: 1, signal: null, detail: 'boom' },
      { kind: 'interrupted', reason: 'restart' },
    ];
    for (const outcome of outcomes) {
      const view = reduceTaskView(createTaskView(node), {
        type: 'outcome',
        outcome,
        usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0 },
        costUsd: 0,
        durationMs: 1000,
        model: null,
      });
      expect(view.state, outcome.kind).toBe(stateOf(outcome));
    }
    // A session stopped for silence is stopped, not failed: ⏹ in its footer, "stopped" in /stats.
    expect(stateOf({ kind: 'timed_out', idleMs: 1, partialText: '' })).toBe('stopped');
  });
});

describe('final answer', () => {
  const finish = (outcome: NodeSnapshot['outcome'] & object): TaskView =>
    fold([{ type: 'outcome', outcome, usage: zero, costUsd: 0, durationMs: 10, model: null }]);

  it('delivers a long answer in full across messages', () => {
    const text = Array.from({ length: 120 }, (_, i) => `Step ${i}: run \`npm test\` & check <output>.`).join(
      '\n',
    );
    const parts = renderFinal(finish({ kind: 'done', text }), dc);
    expect(parts.length).toBeGreaterThan(2);
    expect(contentOf(parts.map((p) => p.plain).join('\n'))).toBe(contentOf(text));
  });

  it('shows the partial answer of a stopped task, and errors as escaped text', () => {
    expect(renderFinal(finish({ kind: 'stopped', partialText: 'half' }), tg)[0]?.plain).toBe(
      'half\n\n⏹ Stopped.',
    );
    const error = renderFinal(finish({ kind: 'error', message: 'bad <input> *here*' }), tg)[0];
    expect(error?.formatted).toBe('❌ <b>Error:</b> bad &lt;input&gt; *here*');
  });

  const FOOTER_SEED = 31_337;
  const usage = { inputTokens: 1200, outputTokens: 3400, cacheReadTokens: 10_000, cacheCreationTokens: 0 };
  const ended = (outcome: NodeSnapshot['outcome'] & object): TaskView =>
    fold([{ type: 'outcome', outcome, usage, costUsd: 0.0123, durationMs: 72_000, model: null }]);

  it('ends the answer with a compact footer line in each dialect when asked', () => {
    const [telegram] = renderFinal(ended({ kind: 'done', text: 'All **green**.' }), tg, { footer: true });
    expect(telegram?.formatted).toBe(
      'All <b>green</b>.\n\n<i>✅ 1 min 12 s · 11k in / 3.4k out tokens · $0.0123</i>',
    );
    const [discord] = renderFinal(ended({ kind: 'stopped', partialText: 'half' }), dc, { footer: true });
    expect(discord?.plain.split('\n').at(-1)).toBe('⏹ 1 min 12 s · 11k in / 3.4k out tokens · $0.0123');
    expect(discord?.formatted.split('\n').at(-1)).toMatch(/^\*⏹ 1 min 12 s .*\$0\.0123\*$/);
    expect(renderFinal(ended({ kind: 'done', text: 'x' }), tg)[0]?.plain).toBe('x');
  });

  it('puts the footer after the last part only, splitting again when the last part is full', () => {
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} ${'word '.repeat(40)}`).join('\n\n');
    const parts = renderFinal(ended({ kind: 'done', text }), dc, { footer: true });
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(part.formatted.length).toBeLessThanOrEqual(2000);
    expect(parts.filter((part) => part.plain.includes('tokens ·'))).toHaveLength(1);
    expect(parts.at(-1)?.plain).toMatch(/\n\n✅ 1 min 12 s · .* \$0\.0123$/);
    expect(contentOf(parts.map((p) => p.plain).join('\n'))).toContain(contentOf(text));
  });

  it(`keeps every part with the footer within limits (fast-check seed ${FOOTER_SEED})`, () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 6000 }),
        fc.constantFrom<Dialect>(telegramHtml, discordMarkdown),
        fc.integer({ min: 100, max: 4096 }),
        (text, dialect, maxLength) => {
          const parts = renderFinal(ended({ kind: 'done', text }), { dialect, maxLength }, { footer: true });
          for (const part of parts) {
            expect(part.formatted.length).toBeLessThanOrEqual(maxLength);
            expect(part.plain.length).toBeLessThanOrEqual(maxLength);
            if (dialect === telegramHtml) expect(telegramHtmlProblems(part.formatted)).toEqual([]);
          }
          expect(parts.at(-1)?.plain).toContain('$0.0123');
        },
      ),
      { seed: FOOTER_SEED, numRuns: 150 },
    );
  });

  it('never returns nothing', () => {
    expect(renderFinal(finish({ kind: 'done', text: '  ' }), tg)).toHaveLength(1);
  });
});
