import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseControlMessage } from '../../sessions/control-protocol.js';
import { createPermissionBroker } from '../../sessions/permission-broker.js';
import type { ProgressEvent } from '../../sessions/types.js';

// One run's prompts: what the user sees (events), what the CLI is told (stdin lines), and the timeout.

function canUseTool(id: string, toolName: string, input: object, extra: object = {}) {
  const message = parseControlMessage({
    type: 'control_request',
    request_id: id,
    request: { subtype: 'can_use_tool', tool_name: toolName, input, tool_use_id: `toolu_${id}`, ...extra },
  });
  if (message === null) throw new Error('unparsed');
  return message;
}

function setup(timeoutMs = 300_000, unattended = false) {
  const sent: Array<Record<string, unknown>> = [];
  const events: Extract<ProgressEvent, { type: 'permission' }>[] = [];
  const questions: Extract<ProgressEvent, { type: 'question' }>[] = [];
  const pendingCounts: number[] = [];
  let stdinOpen = true;
  const broker = createPermissionBroker({
    timeoutMs,
    cwd: '/ws',
    unattended,
    send: (line) => {
      if (!stdinOpen) return false;
      sent.push(JSON.parse(line));
      return true;
    },
    emit: (event) => {
      if (event.type === 'permission') events.push(event);
      if (event.type === 'question') questions.push(event);
    },
    onPendingChange: (count) => pendingCounts.push(count),
  });
  const closeStdin = () => {
    stdinOpen = false;
  };
  return { broker, sent, events, questions, pendingCounts, closeStdin };
}

const responseOf = (line: Record<string, unknown> | undefined) =>
  (line?.response as { response: Record<string, unknown> } | undefined)?.response;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('permission broker', () => {
  it('skip mode: a tool call its mode would refuse is refused at once, unseen; a question still reaches the user', () => {
    const { broker, sent, events, questions } = setup(300_000, true);
    broker.handle(canUseTool('cli-1', 'WebFetch', { url: 'http://example.com', prompt: 'x' }));
    expect(events).toEqual([]);
    expect(responseOf(sent[0])).toMatchObject({
      behavior: 'deny',
      message: expect.stringContaining('Claude requested permissions to use WebFetch'),
    });
    broker.handle(
      canUseTool('cli-2', 'AskUserQuestion', {
        questions: [{ question: 'Which?', header: 'H', options: [{ label: 'A' }, { label: 'B' }] }],
      }),
    );
    expect(questions).toMatchObject([{ type: 'question', kind: 'ask', status: 'pending' }]);
    expect(events).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it('a prompt shows as pending with a readable summary and a short id; allow answers the CLI once', () => {
    const { broker, sent, events, pendingCounts } = setup();
    broker.handle(canUseTool('cli-1', 'Bash', { command: 'rm -rf build', description: 'clean' }));
    expect(events).toHaveLength(1);
    const [pending] = events;
    expect(pending).toMatchObject({ toolName: 'Bash', summary: 'rm -rf build', status: 'pending' });
    expect(pending?.requestId.length).toBeLessThanOrEqual(12);
    expect(sent).toEqual([]);
    expect(broker.answer(pending?.requestId ?? '', 'allow')).toBe(true);
    expect(responseOf(sent[0])).toMatchObject({
      behavior: 'allow',
      updatedInput: { command: 'rm -rf build' },
    });
    expect(events.at(-1)?.status).toBe('allowed');
    expect(broker.answer(pending?.requestId ?? '', 'deny')).toBe(false);
    expect(sent).toHaveLength(1);
    expect(pendingCounts).toEqual([1, 0]);
  });

  it('deny tells the model in words; an unknown id is refused', () => {
    const { broker, sent, events } = setup();
    broker.handle(canUseTool('cli-2', 'Write', { file_path: '/ws/a.txt', content: 'x' }));
    expect(events[0]?.summary).toBe('a.txt');
    expect(broker.answer('nope', 'allow')).toBe(false);
    expect(broker.answer(events[0]?.requestId ?? '', 'deny')).toBe(true);
    expect(responseOf(sent[0])).toMatchObject({ behavior: 'deny' });
    expect(String(responseOf(sent[0])?.message)).toMatch(/denied/);
    expect(events.at(-1)?.status).toBe('denied');
  });

  it('always sends a session rule and says so', () => {
    const { broker, sent, events } = setup();
    broker.handle(canUseTool('cli-3', 'Bash', { command: 'ls' }));
    broker.answer(events[0]?.requestId ?? '', 'always');
    expect(responseOf(sent[0])?.updatedPermissions).toEqual([
      {
        type: 'addRules',
        rules: [{ toolName: 'Bash', ruleContent: 'ls' }],
        behavior: 'allow',
        destination: 'session',
      },
    ]);
    expect(events.at(-1)).toMatchObject({ status: 'allowed', always: true });
  });

  it('nobody answers: denied after the timeout, with the reason for the model', () => {
    const { broker, sent, events } = setup(300_000);
    broker.handle(canUseTool('cli-4', 'Bash', { command: 'make' }));
    vi.advanceTimersByTime(299_999);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(responseOf(sent[0])).toMatchObject({
      behavior: 'deny',
      message: 'No answer in 5 min: the tool call was denied.',
    });
    expect(events.at(-1)?.status).toBe('expired');
    expect(broker.answer(events[0]?.requestId ?? '', 'allow')).toBe(false);
  });

  it('the CLI withdraws a prompt: cancelled, a late answer is refused and nothing is sent', () => {
    const { broker, sent, events } = setup();
    broker.handle(canUseTool('cli-5', 'Write', { file_path: '/ws/b', content: '' }));
    broker.handle({ kind: 'cancel', requestId: 'cli-5' });
    expect(events.at(-1)?.status).toBe('cancelled');
    expect(broker.answer(events[0]?.requestId ?? '', 'allow')).toBe(false);
    vi.advanceTimersByTime(600_000);
    expect(sent).toEqual([]);
  });

  it('a stopped run cancels every open prompt and later prompts are not shown', () => {
    const { broker, events, sent, closeStdin } = setup();
    broker.handle(canUseTool('cli-6', 'Bash', { command: 'a' }));
    broker.handle(canUseTool('cli-7', 'Bash', { command: 'b' }));
    closeStdin();
    broker.cancelAll();
    expect(events.filter((event) => event.status === 'cancelled')).toHaveLength(2);
    broker.handle(canUseTool('cli-8', 'Bash', { command: 'c' }));
    expect(events).toHaveLength(4);
    vi.advanceTimersByTime(600_000);
    expect(sent).toEqual([]);
  });

  it('AskUserQuestion is not shown as Allow/Deny but as its question; the answer goes back as the SDK sends it', () => {
    const { broker, events, sent, pendingCounts } = setup();
    const questions: object[] = [];
    const questionEvents: ProgressEvent[] = [];
    const asking = createPermissionBroker({
      timeoutMs: 300_000,
      cwd: '/ws',
      send: (line) => sent.push(JSON.parse(line)) > 0,
      emit: (event) => questionEvents.push(event),
      onPendingChange: (count) => pendingCounts.push(count),
    });
    const input = {
      questions: [
        {
          question: 'Which color?',
          header: 'Color',
          options: [{ label: 'Blue', description: 'Calm' }, { label: 'Red' }, { description: 'no label' }],
          multiSelect: false,
        },
      ],
    };
    asking.handle(canUseTool('cli-9', 'AskUserQuestion', input, { requires_user_interaction: true }));
    expect(events).toEqual([]);
    expect(sent).toEqual([]);
    const [pending] = questionEvents;
    expect(pending).toMatchObject({
      type: 'question',
      kind: 'ask',
      status: 'pending',
      questions: [
        {
          question: 'Which color?',
          header: 'Color',
          multiSelect: false,
          // An option without a label cannot be a button: left out.
          options: [
            { label: 'Blue', description: 'Calm' },
            { label: 'Red', description: '' },
          ],
        },
      ],
    });
    const requestId = pending?.type === 'question' ? pending.requestId : '';
    expect(asking.answerQuestion(requestId, { kind: 'answers', answers: { 'Which color?': 'Blue' } })).toBe(
      true,
    );
    expect(responseOf(sent[0])).toEqual({
      behavior: 'allow',
      updatedInput: { ...input, answers: { 'Which color?': 'Blue' } },
      toolUseID: 'toolu_cli-9',
    });
    expect(questionEvents.at(-1)).toMatchObject({ type: 'question', status: 'answered', answer: 'Blue' });
    expect(asking.answerQuestion(requestId, { kind: 'answers', answers: {} })).toBe(false);
    expect(questions).toEqual([]);
    // Nothing readable to ask: the model is told to ask in its answer.
    broker.handle(
      canUseTool('cli-10', 'AskUserQuestion', { questions: [] }, { requires_user_interaction: true }),
    );
    expect(responseOf(sent.at(-1))).toMatchObject({ behavior: 'deny' });
  });

  it('ExitPlanMode shows the plan; approve allows it, keep planning denies it with a reason', () => {
    const { sent } = setup();
    const seen: ProgressEvent[] = [];
    const broker = createPermissionBroker({
      timeoutMs: 300_000,
      cwd: '/ws',
      send: (line) => sent.push(JSON.parse(line)) > 0,
      emit: (event) => seen.push(event),
      onPendingChange: () => {},
    });
    broker.handle(
      canUseTool('p1', 'ExitPlanMode', { plan: '# Plan\n1. go' }, { requires_user_interaction: true }),
    );
    const first = seen[0];
    expect(first).toMatchObject({ type: 'question', kind: 'plan', plan: '# Plan\n1. go' });
    broker.answerQuestion(first?.type === 'question' ? first.requestId : '', { kind: 'approve_plan' });
    expect(responseOf(sent[0])).toMatchObject({ behavior: 'allow', updatedInput: { plan: '# Plan\n1. go' } });
    broker.handle(canUseTool('p2', 'ExitPlanMode', {}, { requires_user_interaction: true }));
    const second = seen.at(-1);
    broker.answerQuestion(second?.type === 'question' ? second.requestId : '', { kind: 'keep_planning' });
    expect(responseOf(sent[1])).toMatchObject({
      behavior: 'deny',
      message: expect.stringContaining('keep planning'),
    });
  });

  it('a control request it does not serve gets an error answer at once', () => {
    const { broker, sent } = setup();
    broker.handle({ kind: 'unsupported_request', requestId: 'x1', subtype: 'hook_callback' });
    expect(sent[0]).toMatchObject({
      type: 'control_response',
      response: { subtype: 'error', request_id: 'x1' },
    });
  });
});
