import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PermissionRequest } from '../../sessions/control-protocol.js';
import { createQuestionDesk, USER_AWAY } from '../../sessions/questions.js';
import type { ProgressEvent } from '../../sessions/types.js';

// One run's questions: what the CLI is sent back when nobody answers, and when the model asks again after that.

const ask = (requestId: string): PermissionRequest => ({
  requestId,
  toolName: 'AskUserQuestion',
  input: { questions: [{ question: 'Which color?', header: 'Color', options: [{ label: 'Blue' }] }] },
  toolUseId: `toolu_${requestId}`,
  description: null,
  suggestions: [],
  blockedPath: null,
  decisionReason: null,
  requiresUserInteraction: true,
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a question nobody answers', () => {
  it('is refused after the timeout; a later question of that run is refused at once, telling the model the user may be away', () => {
    const sent: string[] = [];
    const events: ProgressEvent[] = [];
    const desk = createQuestionDesk({
      timeoutMs: 300_000,
      spokenTimeout: '5 min',
      send: (line) => sent.push(line) > 0,
      emit: (event) => void events.push(event),
      onEnded: () => {},
    });
    expect(desk.open('q1', ask('r1'))).toBe(true);
    vi.advanceTimersByTime(300_000);
    expect(JSON.parse(sent[0] ?? '{}')).toMatchObject({
      response: {
        request_id: 'r1',
        response: { behavior: 'deny', message: expect.stringContaining('No answer in 5 min') },
      },
    });

    expect(desk.open('q2', ask('r2'))).toBe(false);
    expect(JSON.parse(sent[1] ?? '{}')).toMatchObject({
      response: { request_id: 'r2', response: { behavior: 'deny', message: USER_AWAY } },
    });
    // The chat saw the first question come and go, and never a second one waiting.
    expect(events.map((event) => (event.type === 'question' ? event.status : event.type))).toEqual([
      'pending',
      'expired',
    ]);
  });

  it('an answered question does not make the next one wait less', () => {
    const sent: string[] = [];
    const desk = createQuestionDesk({
      timeoutMs: 300_000,
      spokenTimeout: '5 min',
      send: (line) => sent.push(line) > 0,
      emit: () => {},
      onEnded: () => {},
    });
    desk.open('q1', ask('r1'));
    desk.answer('q1', { kind: 'answers', answers: { 'Which color?': 'Blue' } });
    expect(desk.open('q2', ask('r2'))).toBe(true);
    expect(desk.size).toBe(1);
  });
});
