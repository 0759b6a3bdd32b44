import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatApiError, createOutbox, type Outbox } from '../../../platforms/outbox/index.js';
import { createLogger } from '../../../src/log.js';
import { createFakeClock, type FakeClock, settle } from './fake-clock.js';
import {
  createScriptedTransport,
  maxInAnyWindow,
  rateLimited,
  type Script,
  type ScriptedTransport,
} from './scripted-transport.js';

const text = (s: string) => ({ formatted: `<b>${s}</b>`, plain: s });

function setup(
  script?: Script,
  rate = { count: 1, windowMs: 1000 },
  maxRetries?: number,
): { clock: FakeClock; transport: ScriptedTransport; outbox: Outbox; logs: string[] } {
  const clock = createFakeClock();
  const transport = createScriptedTransport(clock.now, script);
  const logs: string[] = [];
  const logger = createLogger('warn', [], { write: (line) => logs.push(line) });
  const outbox = createOutbox({
    transport,
    clock,
    rate,
    logger,
    ...(maxRetries === undefined ? {} : { maxRetries }),
  });
  return { clock, transport, outbox, logs };
}

describe('outbox ordering and coalescing', () => {
  it('keeps the order of sends, edits and deletes in one chat', async () => {
    const { clock, transport, outbox } = setup();
    const first = outbox.send('c', text('one'));
    const edit = outbox.edit('c', '9', text('nine'));
    const second = outbox.send('c', text('two'), { replyToMessageId: '5' });
    const removal = outbox.delete('c', '7');
    await clock.runAll();
    await Promise.all([first, edit, second, removal]);
    expect(transport.calls.map((c) => `${c.kind}:${c.text}`)).toEqual([
      'send:<b>one</b>',
      'edit:<b>nine</b>',
      'send:<b>two</b>',
      'delete:',
    ]);
    expect(transport.calls[2]?.replyToMessageId).toBe('5');
    expect(await first).toEqual({ messageId: '1' });
    expect(await second).toEqual({ messageId: '2' });
  });

  it('sends only the latest of many queued edits of a message, and every waiter gets that result', async () => {
    const { clock, transport, outbox } = setup();
    const waiters = [outbox.send('c', text('start'))];
    const edits = Array.from({ length: 10 }, (_, i) => outbox.edit('c', '1', text(`v${i}`)));
    await clock.runAll();
    await Promise.all([...waiters, ...edits]);
    expect(transport.calls.map((c) => c.text)).toEqual(['<b>start</b>', '<b>v9</b>']);
    expect(outbox.stats()).toMatchObject({ sent: 1, edited: 1, coalesced: 9 });
  });

  it('never lets a coalesced edit overtake a send queued before it', async () => {
    const { clock, transport, outbox } = setup();
    const all = [
      outbox.send('c', text('a')),
      outbox.edit('c', 'status', text('running')),
      outbox.send('c', text('answer part')),
      outbox.edit('c', 'status', text('done')),
    ];
    await clock.runAll();
    await Promise.all(all);
    expect(transport.calls.map((c) => c.text)).toEqual(['<b>a</b>', '<b>answer part</b>', '<b>done</b>']);
  });

  it('does not coalesce sends', async () => {
    const { clock, transport, outbox } = setup();
    const sends = Array.from({ length: 5 }, () => outbox.send('c', text('same')));
    await clock.runAll();
    expect((await Promise.all(sends)).map((r) => r.messageId)).toEqual(['1', '2', '3', '4', '5']);
    expect(transport.calls).toHaveLength(5);
  });
});

describe('outbox rate', () => {
  const SEED = 7_031;
  it(`never exceeds the rate in any window, whatever the traffic (fast-check seed ${SEED})`, async () => {
    const op = fc.record({
      chat: fc.constantFrom('a', 'b'),
      kind: fc.constantFrom('send', 'edit', 'delete'),
      message: fc.constantFrom('1', '2', '3'),
      gapMs: fc.integer({ min: 0, max: 700 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 200, max: 3000 }),
        async (ops, count, windowMs) => {
          const { clock, transport, outbox } = setup(undefined, { count, windowMs });
          const promises: Promise<unknown>[] = [];
          for (const o of ops) {
            if (o.kind === 'send') promises.push(outbox.send(o.chat, text('s')));
            else if (o.kind === 'edit')
              promises.push(outbox.edit(o.chat, o.message, text(`e${promises.length}`)));
            else promises.push(outbox.delete(o.chat, o.message));
            await clock.advance(o.gapMs);
          }
          await clock.runAll();
          await Promise.all(promises);
          expect(maxInAnyWindow(transport.calls, windowMs)).toBeLessThanOrEqual(count);
          const s = outbox.stats();
          expect(s.sent + s.edited + s.deleted + s.coalesced).toBe(ops.length);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('lets chats proceed independently: a paused chat does not hold up another', async () => {
    let limited = false;
    const { clock, transport, outbox } = setup((call) => {
      if (call.chatId === 'slow' && !limited) {
        limited = true;
        return rateLimited(30_000);
      }
      return undefined;
    });
    const slow = outbox.send('slow', text('x'));
    const fast = Array.from({ length: 5 }, (_, i) => outbox.send('fast', text(`f${i}`)));
    await clock.advance(5_000);
    expect(transport.delivered.filter((c) => c.chatId === 'fast')).toHaveLength(5);
    expect(transport.delivered.filter((c) => c.chatId === 'slow')).toHaveLength(0);
    await clock.runAll();
    await Promise.all([slow, ...fast]);
    const slowCall = transport.delivered.find((c) => c.chatId === 'slow');
    expect(slowCall?.at).toBeGreaterThanOrEqual((transport.calls[0]?.at ?? 0) + 30_000);
  });
});

describe('outbox failures', () => {
  it('honours a 429 storm with retry_after, pausing the chat, and loses nothing', async () => {
    let pausedUntil = 0;
    const violations: number[] = [];
    const { clock, transport, outbox } = setup(
      (call, n) => {
        if (call.at < pausedUntil) violations.push(call.at);
        if (n % 3 !== 0) {
          pausedUntil = call.at + 2_000;
          return rateLimited(2_000);
        }
        return undefined;
      },
      { count: 5, windowMs: 1000 },
      0, // 429s must not use the retry budget: with none at all, nothing may fail
    );
    const promises: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      promises.push(outbox.send('c', text(`m${i}`)));
      promises.push(outbox.edit('c', 'status', text(`status ${i}`)));
    }
    await clock.runAll();
    await Promise.all(promises);
    expect(violations).toEqual([]);
    const sends = transport.delivered.filter((c) => c.kind === 'send').map((c) => c.text);
    expect(sends).toEqual(Array.from({ length: 20 }, (_, i) => `<b>m${i}</b>`));
    expect(transport.shown.get('c/status')).toBe('<b>status 19</b>');
    expect(outbox.stats().failed).toBe(0);
    expect(outbox.stats().rateLimited).toBeGreaterThan(20);
  });

  it('backs off on a 429 without retry_after', async () => {
    let first = true;
    const { clock, transport, outbox } = setup(() => {
      if (first) {
        first = false;
        return rateLimited();
      }
      return undefined;
    });
    const done = outbox.send('c', text('x'));
    await clock.runAll();
    await done;
    expect(transport.calls).toHaveLength(2);
    expect((transport.calls[1]?.at ?? 0) - (transport.calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('falls back to the plain text once when the platform rejects the formatting', async () => {
    const { clock, transport, outbox } = setup((call) =>
      call.formatted
        ? new ChatApiError('bad_format', "Bad Request: can't parse entities", { status: 400 })
        : undefined,
    );
    const sent = outbox.send('c', text('hello'));
    const edited = outbox.edit('c', '1', text('hello again'));
    await clock.runAll();
    await Promise.all([sent, edited]);
    expect(transport.delivered.map((c) => [c.text, c.formatted])).toEqual([
      ['hello', false],
      ['hello again', false],
    ]);
    expect(outbox.stats().fellBackToPlain).toBe(2);
  });

  it('treats "message is not modified" as success', async () => {
    const { clock, outbox } = setup(
      () => new ChatApiError('not_modified', 'message is not modified', { status: 400 }),
    );
    const edited = outbox.edit('c', '1', text('same'));
    await clock.runAll();
    await expect(edited).resolves.toBeUndefined();
    expect(outbox.stats().failed).toBe(0);
  });

  it('retries server and network failures with growing waits, then fails only that operation', async () => {
    const { clock, transport, outbox, logs } = setup(
      (call) =>
        call.text === '<b>doomed</b>'
          ? new ChatApiError('server', 'Bad Gateway', { status: 502 })
          : undefined,
      { count: 10, windowMs: 1000 },
      3,
    );
    const doomed = outbox.send('c', text('doomed'));
    const after = outbox.send('c', text('after'));
    await clock.runAll();
    await expect(doomed).rejects.toMatchObject({ kind: 'server', status: 502 });
    await expect(after).resolves.toEqual({ messageId: '1' });
    const times = transport.calls.filter((c) => c.text === '<b>doomed</b>').map((c) => c.at);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toEqual([1000, 2000, 4000]);
    expect(outbox.stats().failed).toBe(1);
    expect(logs.join('')).toContain('chat operation failed for good');
  });

  it('recovers from a transient network failure', async () => {
    let failures = 2;
    const { clock, transport, outbox } = setup(() =>
      failures-- > 0 ? new ChatApiError('network', 'ECONNRESET') : undefined,
    );
    const sent = outbox.send('c', text('x'));
    await clock.runAll();
    await expect(sent).resolves.toEqual({ messageId: '1' });
    expect(transport.calls).toHaveLength(3);
  });

  it('delivers the final state of a message even when the earlier edit failed for good', async () => {
    const { clock, transport, outbox } = setup(
      (call) =>
        call.text === '<b>v1</b>' ? new ChatApiError('server', 'Bad Gateway', { status: 502 }) : undefined,
      { count: 1, windowMs: 1000 },
      2,
    );
    const v1 = outbox.edit('c', '1', text('v1'));
    await settle(); // v1 is in flight (backing off after a 502): v2 cannot coalesce into it
    const v2 = outbox.edit('c', '1', text('v2'));
    await clock.runAll();
    await Promise.all([v1, v2]);
    expect(transport.calls.map((c) => c.text)).toEqual(['<b>v1</b>', '<b>v1</b>', '<b>v1</b>', '<b>v2</b>']);
    expect(transport.shown.get('c/1')).toBe('<b>v2</b>');
    expect(outbox.stats().failed).toBe(0);
  });

  it('rejects only the failed operation when no newer edit follows it', async () => {
    const { clock, transport, outbox } = setup((call) =>
      call.text === '<b>v1</b>' ? new ChatApiError('forbidden', 'Forbidden', { status: 403 }) : undefined,
    );
    const v1 = outbox.edit('c', '1', text('v1'));
    const other = outbox.edit('c', '2', text('w'));
    await clock.runAll();
    await expect(v1).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(other).resolves.toBeUndefined();
    expect(transport.shown.get('c/2')).toBe('<b>w</b>');
  });

  it('treats deleting a message that is already gone as done', async () => {
    const { clock, outbox } = setup(() => new ChatApiError('not_found', 'message to delete not found'));
    const removal = outbox.delete('c', '1');
    await clock.runAll();
    await expect(removal).resolves.toBeUndefined();
  });

  it('counts a non-ChatApiError from a transport as a failure without stopping the queue', async () => {
    const { clock, outbox } = setup((call) =>
      call.text === '<b>bad</b>' ? new ChatApiError('other', 'x') : undefined,
    );
    const bad = outbox.send('c', text('bad'));
    const good = outbox.send('c', text('good'));
    await clock.runAll();
    await expect(bad).rejects.toBeInstanceOf(ChatApiError);
    await expect(good).resolves.toBeDefined();
  });
});

describe('outbox flush and close', () => {
  it('flush waits for everything queued so far; close refuses new work', async () => {
    const { clock, transport, outbox } = setup();
    const promises = [outbox.send('a', text('1')), outbox.send('a', text('2')), outbox.send('b', text('3'))];
    let flushed = false;
    const flushing = outbox.flush().then(() => {
      flushed = true;
    });
    await clock.advance(10);
    expect(flushed).toBe(false);
    await clock.runAll();
    await flushing;
    expect(flushed).toBe(true);
    expect(transport.delivered).toHaveLength(3);
    await Promise.all(promises);
    await outbox.close();
    await expect(outbox.send('a', text('late'))).rejects.toThrow(/closed/);
    await expect(outbox.edit('a', '1', text('late'))).rejects.toThrow(/closed/);
  });

  it('rides out ten server failures by default, but only two once closing, so shutdown stays prompt', async () => {
    const { clock, transport, outbox } = setup(() => new ChatApiError('network', 'ECONNREFUSED'), {
      count: 10,
      windowMs: 1000,
    });
    const open = outbox.send('c', text('while open'));
    await clock.runAll();
    await expect(open).rejects.toMatchObject({ kind: 'network' });
    expect(transport.calls).toHaveLength(11);
    const owed = outbox.send('c', text('owed at shutdown'));
    const closing = outbox.close();
    await clock.runAll();
    await closing;
    await expect(owed).rejects.toMatchObject({ kind: 'network' });
    expect(transport.calls).toHaveLength(11 + 3);
    expect(outbox.stats()).toMatchObject({ retried: 12, failed: 2 });
  });

  it('rejects a bad rate at construction', () => {
    const clock = createFakeClock();
    const transport = createScriptedTransport(clock.now);
    const logger = createLogger('silent', []);
    expect(() => createOutbox({ transport, clock, rate: { count: 0, windowMs: 1000 }, logger })).toThrow(
      /rate\.count/,
    );
  });
});
