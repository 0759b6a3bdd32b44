import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../platforms/discord/index.js';
import { buttonData, parseButtonData, promptText } from '../../platforms/permission-prompts.js';
import { createTaskView, reduceTaskView, renderStatus, type TaskView } from '../../platforms/render/index.js';
import { telegramHtml } from '../../platforms/telegram/index.js';
import type { NodeSnapshot, ProgressEvent } from '../../sessions/types.js';
import { telegramHtmlProblems } from '../platforms/render/oracle.js';

// How a permission prompt looks in chat: the prompt message, its buttons' data, and the status line.

type PermissionEvent = Extract<ProgressEvent, { type: 'permission' }>;

const node: NodeSnapshot = {
  id: '0b1c2d3e-4f50-4617-8899-aabbccddeeff',
  treeId: 't',
  parentId: null,
  prompt: 'clean up',
  state: 'running',
  queuePosition: null,
  sessionId: null,
  workingDirectory: '/w',
  messages: [],
  createdAt: 1,
  startedAt: 2,
  finishedAt: null,
  costUsd: 0,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
  outcome: null,
};
const tg = { dialect: telegramHtml, maxLength: 4096 } as const;
const dc = { dialect: discordMarkdown, maxLength: 2000 } as const;

const event = (status: PermissionEvent['status'], extra: Partial<PermissionEvent> = {}): PermissionEvent => ({
  type: 'permission',
  requestId: 'Ab3_x-9Z',
  toolName: 'Bash',
  summary: 'rm -rf build <old>',
  status,
  ...extra,
});

describe('permission prompt in chat', () => {
  it('the prompt says what wants to run, escaped for each dialect', () => {
    const telegram = promptText(event('pending'), telegramHtml);
    expect(telegram.plain.split('\n')[0]).toBe('🔐 Bash wants to run rm -rf build <old>');
    expect(telegram.formatted).toContain('<code>rm -rf build &lt;old&gt;</code>');
    expect(telegramHtmlProblems(telegram.formatted)).toEqual([]);
    expect(promptText(event('pending'), discordMarkdown).formatted).toContain('`rm -rf build <old>`');
  });

  it('after the answer the prompt says how it ended', () => {
    const ended = (e: PermissionEvent) => promptText(e, telegramHtml).plain;
    expect(ended(event('allowed'))).toBe('✅ Allowed: Bash rm -rf build <old>');
    expect(ended(event('allowed', { always: true }))).toBe(
      '✅ Always allowed in this session: Bash rm -rf build <old>',
    );
    expect(ended(event('denied'))).toMatch(/^🚫 Denied: Bash/);
    expect(ended(event('expired'))).toMatch(/^⌛ No answer in time, denied: Bash/);
    expect(ended(event('cancelled'))).toMatch(/^⏹ Cancelled/);
  });

  it('button data carries node, request and decision within Telegram’s 64 bytes, and nothing else parses', () => {
    for (const decision of ['allow', 'always', 'deny'] as const) {
      const data = buttonData(node.id, 'Ab3_x-9Z', decision);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(parseButtonData(data)).toEqual({ nodeId: node.id, requestId: 'Ab3_x-9Z', decision });
    }
    expect(parseButtonData('perm:x:n:r')).toBeNull();
    expect(parseButtonData('something else')).toBeNull();
  });

  it('the status shows the waiting request, then the decision; the view folds every status', () => {
    const running = reduceTaskView(createTaskView(node), {
      type: 'state',
      state: 'running',
      queuePosition: null,
    });
    const waiting = reduceTaskView(running, event('pending'));
    expect(renderStatus(waiting, tg).plain.split('\n')).toContain(
      '🔐 Waiting for your answer below: Bash rm -rf build <old>',
    );
    expect(renderStatus(waiting, dc).plain).toContain('🔐 Waiting for your answer below');
    const lines = (view: TaskView) => renderStatus(view, tg).plain.split('\n');
    expect(lines(reduceTaskView(waiting, event('allowed')))).toContain(
      '✅ You allowed Bash rm -rf build <old>',
    );
    expect(lines(reduceTaskView(waiting, event('allowed', { always: true })))[1]).toMatch(
      /^✅ You allowed for this session Bash/,
    );
    expect(lines(reduceTaskView(waiting, event('denied')))[1]).toMatch(/^🚫 You denied Bash/);
    expect(lines(reduceTaskView(waiting, event('expired')))[1]).toMatch(/^⌛ No answer in time/);
    expect(telegramHtmlProblems(renderStatus(waiting, tg).formatted)).toEqual([]);
  });
});
