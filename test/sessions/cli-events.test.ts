import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliEvent } from '../../sessions/cli-events.js';
import { REFERENCE, transcriptEvents } from './transcripts.js';

describe('stream-json parser over every recorded run', () => {
  for (const version of ['2.1.197', '2.1.330'] as const) {
    it(`types every line of the ${version} recordings, with no unknown event type`, () => {
      const dir = join(REFERENCE, `claude-cli-${version}`, 'runs');
      const unknown: string[] = [];
      let lines = 0;
      for (const run of readdirSync(dir)) {
        const file = join(dir, run, 'stdout.jsonl');
        if (!existsSync(file)) continue;
        for (const line of readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== '')) {
          lines += 1;
          const event = parseCliEvent(JSON.parse(line));
          expect(event, `${run}: ${line.slice(0, 60)}`).not.toBeNull();
          if (event?.kind === 'unknown') unknown.push(`${run}: ${event.type}`);
        }
      }
      expect(lines).toBeGreaterThan(200);
      expect(unknown).toEqual([]);
    });
  }

  it('reads init: the session id, cwd and model', () => {
    const [init] = transcriptEvents('2.1.330', '01-text-authtoken');
    expect(init).toMatchObject({
      kind: 'init',
      cwd: '/home/user/work/01-text-authtoken',
      model: 'claude-opus-5-5',
    });
    expect(init?.kind === 'init' && init.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a 529 give-up as an error result with the CLI message (2.1.197, max retries 2)', () => {
    const result = transcriptEvents('2.1.197', '09-errors-always529-maxretries2').at(-1);
    expect(result).toMatchObject({ kind: 'result', isError: true, apiErrorStatus: 529 });
    expect(result?.kind === 'result' && result.text).toMatch(/^API Error: 529 Overloaded/);
  });

  it('reads a failed resume: error_during_execution with the errors list', () => {
    const events = transcriptEvents('2.1.330', '18f-resume-nonexistent');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'result',
      subtype: 'error_during_execution',
      errors: ['No conversation found with session ID: 11111111-2222-3333-4444-555555555555'],
    });
  });

  it('reads result usage, cost and duration', () => {
    const result = transcriptEvents('2.1.330', '01-text-authtoken').at(-1);
    expect(result).toMatchObject({
      kind: 'result',
      isError: false,
      text: 'Hi! This is the mock model.',
      usage: { inputTokens: 42, outputTokens: 7, cacheReadTokens: 0, cacheCreationTokens: 0 },
    });
    expect(result?.kind === 'result' && result.costUsd).toBeGreaterThan(0);
  });

  it('keeps a malformed field neutral instead of dropping the line', () => {
    expect(
      parseCliEvent({ type: 'result', is_error: 'yes', usage: 'many', total_cost_usd: 'NaN' }),
    ).toMatchObject({
      kind: 'result',
      isError: false,
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
    });
    expect(parseCliEvent({ type: 'brand_new_event' })).toEqual({ kind: 'unknown', type: 'brand_new_event' });
    expect(parseCliEvent(['not', 'an', 'event'])).toBeNull();
    expect(parseCliEvent({ no: 'type' })).toBeNull();
  });
});
