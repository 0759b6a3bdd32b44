import { afterEach, describe, expect, it } from 'vitest';
import type { MessageRef, NodeSnapshot, ProgressEvent } from '../../sessions/types.js';
import { messagesOf, startFakeUpstream, textReply, type UpstreamReply } from '../fakes/openai-upstream.js';
import { type E2eRig, finishedNode, startE2eRig, tokensSeen } from '../sessions/e2e-rig.js';
import { alive, until, userText } from './sessions-rig.js';

// The fault that needs the real CLI: `claude` killed with -9 mid-stream. What the user reads, and whether the
// session the CLI had written so far still carries a reply (the replay fake cannot show that).

let rig: E2eRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Streams slowly when the newest message asks for WORD-SLOW; otherwise echoes every token it was shown. */
function script(req: { body: unknown }): UpstreamReply {
  if (JSON.stringify(messagesOf(req.body).at(-1) ?? {}).includes('WORD-SLOW')) {
    return textReply(`slow ${'word '.repeat(400)}`, { chunkSize: 5, delayMs: 50 });
  }
  return textReply(`seen: ${tokensSeen(req.body).join(' ')}`, { chunkSize: 6 });
}

describe('the real claude process killed with -9 mid-task', () => {
  it('ends crashed (SIGKILL) and says so; the engine serves the next task, a reply forks the cut session', async () => {
    rig = await startE2eRig(await startFakeUpstream(script));
    const engine = rig.engine();
    await engine.start();
    const events: Array<{ node: NodeSnapshot; event: ProgressEvent }> = [];
    engine.subscribe((node, event) => events.push({ node, event }));
    const origin: MessageRef = { platform: 'e2e', chatId: 'c', messageId: 'victim' };
    const submitted = await engine.submit({ prompt: 'write a lot WORD-SLOW', origin, replyTo: null });
    if (submitted.kind !== 'accepted') throw new Error(submitted.reason);
    await until(() =>
      events.some((item) => item.node.id === submitted.node.id && item.event.type === 'text'),
    );
    const [cli] = rig.cliPids(process.pid);
    expect(cli).toBeDefined();
    process.kill(cli ?? -1, 'SIGKILL');

    const crashed = await finishedNode(engine, submitted.node.id);
    expect(crashed.state).toBe('error');
    expect(crashed.outcome).toMatchObject({ kind: 'crashed', exitCode: null, signal: 'SIGKILL' });
    expect(userText(events, crashed)).toMatch(
      /^💥 The Claude process ended unexpectedly \(signal SIGKILL\)\./,
    );
    expect(crashed.sessionId).toBeTruthy();
    expect(alive(cli ?? -1)).toBe(false);
    expect(engine.stats()).toMatchObject({ running: 0, errors: 1 });

    const reply = await engine.submit({
      prompt: 'and WORD-BRAVO',
      origin: { platform: 'e2e', chatId: 'c', messageId: 'reply' },
      replyTo: origin,
    });
    if (reply.kind !== 'accepted') throw new Error(reply.reason);
    expect(reply.forkedFrom?.id).toBe(crashed.id);
    const continued = await finishedNode(engine, reply.node.id);
    expect(continued.forkOf).toBe(crashed.sessionId);
    // The CLI had stored the cut turn's prompt: the fork is shown it, and the new session is its own.
    expect(continued.outcome).toEqual({ kind: 'done', text: 'seen: WORD-SLOW WORD-BRAVO' });
    expect(continued.sessionId).not.toBe(crashed.sessionId);
  });
});
