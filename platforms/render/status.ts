import type { NodeState, Outcome, Usage } from '../../sessions/types.js';
import { formatDuration, formatTokens } from '../../src/common/index.js';
import type { Dialect } from './dialect.js';
import { escapeMarkdown } from './escape.js';
import { retryNotice } from './retry-notice.js';
import { renderMarkdown } from './split.js';
import { latestThought, subagentDetail } from './steps.js';
import type { PermissionView, TaskView } from './task-view.js';
import { headOf, oneLine, tailOf, wellFormedParts } from './text.js';
import { assertLimits, type Formatted, MIN_MAX_LENGTH, type RenderLimits } from './types.js';

export { retryNotice };

// The live status message and the final answer. The status is built from escaped pieces (never from
// markdown cut in the middle), then shrunk step by step until it fits one message.

interface Detail {
  tools: number;
  thinking: number;
  preview: number;
  subagents: number;
  /** Cap for any one summary or error text. */
  line: number;
}

const DETAILS: readonly Detail[] = [
  { tools: 6, thinking: 1000, preview: 300, subagents: 5, line: 160 },
  { tools: 4, thinking: 700, preview: 200, subagents: 3, line: 100 },
  { tools: 3, thinking: 300, preview: 120, subagents: 2, line: 60 },
  { tools: 1, thinking: 60, preview: 60, subagents: 1, line: 40 },
  { tools: 0, thinking: 0, preview: 0, subagents: 0, line: 30 },
];

interface Markup {
  text(s: string): Formatted;
  bold(s: string): Formatted;
  italic(s: string): Formatted;
  code(s: string): Formatted;
  /** A block quote around one line of markup. */
  quote(line: Formatted): Formatted;
}

/** Escaped pieces with their plain twins; the plain text goes through `verbatim` too (no Discord pings). */
function markupFor(dialect: Dialect): Markup {
  const plain = (s: string): string => dialect.verbatim(s);
  return {
    text: (s) => ({ formatted: dialect.escape(s), plain: plain(s) }),
    bold: (s) => ({ formatted: dialect.bold(dialect.escape(s)), plain: plain(s) }),
    italic: (s) => ({ formatted: dialect.italic(dialect.escape(s)), plain: plain(s) }),
    code: (s) => ({ formatted: dialect.code(s), plain: plain(s) }),
    quote: (line) =>
      dialect.markdown === 'native'
        ? { formatted: `> ${line.formatted}`, plain: line.plain }
        : {
            formatted: `${dialect.markdown.quote.open}${line.formatted}${dialect.markdown.quote.close}`,
            plain: line.plain,
          },
  };
}

const join = (pieces: Formatted[], separator = ''): Formatted => ({
  formatted: pieces.map((p) => p.formatted).join(separator),
  plain: pieces.map((p) => p.plain).join(separator),
});

const STATE_LABEL: Record<NodeState, string> = {
  queued: '📋 Queued',
  running: '🔄 Running',
  done: '✅ Done',
  error: '❌ Error',
  stopped: '⏹ Stopped',
  interrupted: '⚠️ Interrupted',
};

const STATE_ICON: Record<NodeState, string> = {
  queued: '📋',
  running: '🔄',
  done: '✅',
  error: '❌',
  stopped: '⏹',
  interrupted: '⚠️',
};

const MODEL_NAME_KEPT = 60;

function footer(view: TaskView): string {
  const usage: Usage = view.usage;
  const input = usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
  const parts: string[] = [];
  if (view.durationMs !== null) parts.push(formatDuration(view.durationMs));
  parts.push(`${formatTokens(input)} in / ${formatTokens(usage.outputTokens)} out tokens`);
  if (view.costUsd > 0) parts.push(`$${view.costUsd.toFixed(view.costUsd < 1 ? 4 : 2)}`);
  // Routed through the proxy, the name says which provider model answered (tiers may map to different ones).
  if (view.model) parts.push(headOf(oneLine(view.model), MODEL_NAME_KEPT));
  return parts.join(' · ');
}

/** The relay's own proxy holding a request: says why, for how long, and which setting governs it. */
export function waitNotice(wait: NonNullable<TaskView['waiting']>): string {
  const provider = wait.label;
  const seconds = wait.delayMs === null ? 0 : Math.max(1, Math.ceil(wait.delayMs / 1000));
  switch (wait.reason) {
    case 'rate_limited':
      return wait.attempt !== null && wait.maxRetries !== null
        ? `${provider} rate limited: retrying in ${seconds} s (retry ${wait.attempt}/${wait.maxRetries})`
        : `${provider} rate limited: waiting ${seconds} s`;
    case 'rate_window':
      return `request limit of ${provider} reached (PROVIDER_RATE_LIMIT): next request in ${seconds} s`;
    case 'busy':
      return `all streams to ${provider} busy (PROVIDER_MAX_CONCURRENCY): waiting for one`;
    case 'fallback':
      return wait.fallback === undefined
        ? `${provider} failed: answering with a fallback`
        : `${provider} ${wait.fallback.cause}: answering with ${wait.fallback.next}`;
    case 'over':
      return ''; // never shown: the view clears the notice
  }
}

function outcomeLine(outcome: Outcome, max: number): string | null {
  switch (outcome.kind) {
    case 'done':
      return null;
    case 'error':
      return headOf(oneLine(outcome.message), max);
    case 'stopped':
      return 'stopped on request';
    case 'timed_out':
      return `no output for ${formatDuration(outcome.idleMs)}: stopped`;
    case 'crashed':
      return headOf(
        oneLine(
          `the Claude process exited (${outcome.signal ?? `code ${outcome.exitCode}`})${outcome.detail ? `: ${outcome.detail}` : ''}`,
        ),
        max,
      );
    case 'interrupted':
      return headOf(oneLine(outcome.reason), max);
  }
}

const PERMISSION_LABEL: Record<PermissionView['status'], string> = {
  pending: '🔐 Waiting for your answer below:',
  allowed: '✅ You allowed',
  denied: '🚫 You denied',
  expired: '⌛ No answer in time, denied:',
  cancelled: '⏹ Permission request cancelled:',
};

function permissionLine(permission: PermissionView, m: Markup, max: number): Formatted {
  const label =
    permission.status === 'allowed' && permission.always
      ? '✅ You allowed for this session'
      : PERMISSION_LABEL[permission.status];
  const pieces = [m.text(`${label} `), m.bold(headOf(oneLine(permission.toolName), 40))];
  const summary = headOf(oneLine(permission.summary), max);
  if (summary) pieces.push(m.text(' '), m.code(summary));
  return join(pieces);
}

function compose(view: TaskView, m: Markup, d: Detail): Formatted {
  const lines: Formatted[] = [];
  const finished = view.outcome !== null;
  let header = STATE_LABEL[view.state];
  if (view.state === 'queued' && view.queuePosition !== null) header += ` (position ${view.queuePosition})`;
  if (view.compacting && !finished) header += ' · compacting the conversation';
  if (view.mode !== null && !finished) header += ` · ${view.mode} mode`;
  lines.push(
    view.continues === null || finished
      ? m.bold(header)
      : join([m.bold(header), m.text(` · ↪ continues ${headOf(oneLine(view.continues), d.line / 2)}`)]),
  );
  if (view.outcome) {
    const detail = outcomeLine(view.outcome, d.line);
    if (detail) lines.push(m.text(detail));
  }
  const thought = latestThought(view.steps);
  if (d.thinking > 0 && thought && !finished) {
    lines.push(m.quote(join([m.text('💭 '), m.italic(tailOf(oneLine(thought), d.thinking))])));
  }
  const hidden = view.toolCallCount - Math.min(d.tools, view.tools.length);
  if (view.toolCallCount > 0 && (d.tools > 0 || finished)) {
    if (hidden > 0) lines.push(m.italic(`${hidden} earlier tool call${hidden === 1 ? '' : 's'}`));
  }
  for (const call of d.tools > 0 ? view.tools.slice(-d.tools) : []) {
    const mark = call.status === 'running' ? '⏳' : call.status === 'ok' ? '✔️' : '✖️';
    const pieces = [m.text(`${mark} `), m.bold(headOf(oneLine(call.name), 40))];
    const summary = headOf(oneLine(call.summary), d.line);
    if (summary) pieces.push(m.text(' '), m.code(summary));
    if (call.status === 'error' && call.resultSummary) {
      pieces.push(m.text(` → ${headOf(oneLine(call.resultSummary), d.line)}`));
    }
    lines.push(join(pieces));
  }
  for (const agent of d.subagents > 0 ? view.subagents.slice(-d.subagents) : []) {
    lines.push(join([m.text('🤖 '), m.bold('Sub-agent'), m.text(` ${subagentDetail(agent, d.line)}`)]));
  }
  if (view.permission && !finished) lines.push(permissionLine(view.permission, m, d.line));
  if (view.retry && !finished) lines.push(m.text(`⚠️ ${retryNotice(view.retry)}`));
  if (view.waiting && !finished) lines.push(m.text(`⏳ ${waitNotice(view.waiting)}`));
  if (d.preview > 0 && view.answer && !finished) {
    lines.push(join([m.text('✍️ '), m.text(tailOf(oneLine(view.answer), d.preview))]));
  }
  if (finished) lines.push(m.italic(footer(view)));
  return join(lines, '\n');
}

/** The live status message: always one message, richer when there is room. */
export function renderStatus(view: TaskView, limits: RenderLimits): Formatted {
  assertLimits(limits);
  const m = markupFor(limits.dialect);
  const fits = (f: Formatted): boolean =>
    f.formatted.length <= limits.maxLength && f.plain.length <= limits.maxLength;
  for (const detail of DETAILS) {
    const status = compose(view, m, detail);
    if (fits(status)) return wellFormedParts(status);
  }
  // Unreachable with maxLength ≥ 100 (the last detail level is a few short lines), kept as a hard floor.
  return m.bold(STATE_LABEL[view.state]);
}

function finalMarkdown(view: TaskView): string {
  const outcome = view.outcome;
  const partial = (text: string, note: string): string => (text.trim() ? `${text}\n\n${note}` : note);
  if (!outcome) return view.answer.trim() ? view.answer : `_${STATE_LABEL[view.state]}…_`;
  switch (outcome.kind) {
    case 'done':
      if (outcome.text.trim()) return outcome.text;
      return view.answer.trim() ? view.answer : '✅ Done (no text answer).';
    case 'error':
      return `❌ **Error:** ${escapeMarkdown(outcome.message)}`;
    case 'stopped':
      return partial(outcome.partialText, '⏹ _Stopped._');
    case 'timed_out':
      return partial(outcome.partialText, `⌛ _Stopped: no output for ${formatDuration(outcome.idleMs)}._`);
    case 'crashed': {
      const how = outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.exitCode}`;
      const detail = outcome.detail.trim() ? `\n\n${escapeMarkdown(outcome.detail)}` : '';
      return `💥 **The Claude process ended unexpectedly** (${how}).${detail}`;
    }
    case 'interrupted':
      if (outcome.skipped) return `⏭ ${escapeMarkdown(outcome.reason)}`;
      return `⚠️ **Interrupted:** ${escapeMarkdown(outcome.reason)}`;
  }
}

/** The final answer in full, as many messages as it takes; never empty. */
export function renderFinal(
  view: TaskView,
  limits: RenderLimits,
  /** `footer`: end the last part with one line: state icon, duration, tokens, cost (once the task ended). */
  options: { footer?: boolean } = {},
): Formatted[] {
  assertLimits(limits);
  const markdown = finalMarkdown(view);
  const render = (maxLength: number): Formatted[] => {
    const parts = renderMarkdown(markdown, { ...limits, maxLength });
    if (parts.length > 0) return parts;
    return [{ formatted: limits.dialect.escape('✅ Done.'), plain: '✅ Done.' }];
  };
  const parts = render(limits.maxLength);
  if (!options.footer || view.outcome === null) return parts;
  const line = markupFor(limits.dialect).italic(`${STATE_ICON[view.state]} ${footer(view)}`);
  const room = Math.max(line.formatted.length, line.plain.length) + FOOTER_GAP.length;
  const fits = (part: Formatted): boolean =>
    Math.max(part.formatted.length, part.plain.length) + room <= limits.maxLength;
  // The footer joins the last part when it fits; else the answer is split again leaving room for it.
  let withRoom = parts;
  if (!fits(parts.at(-1)!) && limits.maxLength - room >= MIN_MAX_LENGTH)
    withRoom = render(limits.maxLength - room);
  const last = withRoom.at(-1)!;
  if (!fits(last)) return [...parts, line];
  return [
    ...withRoom.slice(0, -1),
    { formatted: last.formatted + FOOTER_GAP + line.formatted, plain: last.plain + FOOTER_GAP + line.plain },
  ];
}

const FOOTER_GAP = '\n\n';
