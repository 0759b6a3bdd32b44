import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionEngine } from '../../sessions/index.js';
import type { NodeSnapshot, ProgressEvent, SessionEngine } from '../../sessions/types.js';
import { createLogger } from '../../src/log.js';
import {
  lastUserText,
  startFakeUpstream,
  textReply,
  toolCallReply,
  toolResults,
  type UpstreamRequest,
} from '../fakes/openai-upstream.js';
import { type E2eRig, finishedNode, startE2eRig } from '../sessions/e2e-rig.js';

// CLAUDE_PERMISSIONS=ask with the real CLI through the embedded proxy to a scripted upstream, driven through the
// engine as a platform would: the model's tool call waits for the user's answer, and the answer decides.

type PermissionEvent = Extract<ProgressEvent, { type: 'permission' }>;

/** The model: a tool call chosen by the prompt's marker, again while `repeat` results are back, then an answer. */
function script(request: UpstreamRequest) {
  const prompt = lastUserText(request.body);
  const results = toolResults(request.body);
  const call = (calls: number, tool: { name: string; arguments: object }) =>
    results.length < calls ? toolCallReply([tool]) : textReply(`answer after: ${results.join(' | ')}`);
  const file = (name: string) => ({
    name: 'Write',
    arguments: { file_path: join(workspace, name), content: 'hi\n' },
  });
  if (prompt.includes('WRITE-ALLOW')) return call(1, file('allowed.txt'));
  if (prompt.includes('WRITE-DENY')) return call(1, file('denied.txt'));
  if (prompt.includes('WRITE-LATE')) return call(1, file('late.txt'));
  if (prompt.includes('WRITE-STOP')) return call(1, file('stopped.txt'));
  // A plain command: with an output redirect (`echo x >> f`) 2.1.330 asks again despite the session rule, as it
  // checks the file write on its own.
  if (prompt.includes('BASH-ALWAYS')) {
    return call(2, { name: 'Bash', arguments: { command: 'touch always.txt', description: 'touch' } });
  }
  return textReply('ok');
}

let rig: E2eRig;
let workspace = '';
let engine: SessionEngine;
const seen: Array<{ node: NodeSnapshot; event: PermissionEvent }> = [];

beforeAll(async () => {
  rig = await startE2eRig(await startFakeUpstream(script));
  const config = rig.sessionsConfig();
  workspace = config.workspace;
  engine = createSessionEngine({
    config,
    proxy: { url: rig.proxy.url, authToken: undefined },
    logger: createLogger('silent', []),
    childEnv: rig.childEnv,
    inheritedEnv: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    stopGraceMs: 500,
    permissions: 'ask',
    permissionTimeoutMs: 4000,
  });
  engine.subscribe((node, event) => {
    if (event.type === 'permission') seen.push({ node, event });
  });
  await engine.start();
});

afterAll(async () => {
  await engine.close();
  await rig.close();
});

let counter = 0;
async function submit(prompt: string): Promise<NodeSnapshot> {
  const result = await engine.submit({
    prompt,
    origin: { platform: 'e2e', chatId: 'c', messageId: `p${++counter}` },
    replyTo: null,
  });
  if (result.kind !== 'accepted') throw new Error(result.reason);
  return result.node;
}

/** The next prompt of a node with this status (already seen, or the next one to come). */
function permission(nodeId: string, status: PermissionEvent['status'], nth = 0): Promise<PermissionEvent> {
  return new Promise((resolveEvent) => {
    const matches = () => seen.filter((item) => item.node.id === nodeId && item.event.status === status);
    const check = (): boolean => {
      const found = matches()[nth];
      if (found === undefined) return false;
      resolveEvent(found.event);
      return true;
    };
    if (check()) return;
    const off = engine.subscribe(() => {
      if (check()) off();
    });
  });
}

const answer = (node: NodeSnapshot): string => (node.outcome?.kind === 'done' ? node.outcome.text : '');

describe('permission prompts with the real CLI (ask mode)', () => {
  it('Allow: the file is written and the answer arrives', async () => {
    const node = await submit('please WRITE-ALLOW');
    const pending = await permission(node.id, 'pending');
    expect(pending).toMatchObject({ toolName: 'Write', summary: 'allowed.txt' });
    expect(existsSync(join(workspace, 'allowed.txt'))).toBe(false);
    expect(await engine.answerPermission(node.id, pending.requestId, 'allow')).toBe(true);
    const done = await finishedNode(engine, node.id);
    expect(done.state).toBe('done');
    expect(existsSync(join(workspace, 'allowed.txt'))).toBe(true);
    expect(answer(done)).toMatch(/^answer after: File created successfully/);
    // Answered once; a second press of the same button changes nothing.
    expect(await engine.answerPermission(node.id, pending.requestId, 'deny')).toBe(false);
  });

  it('Deny: the file is not written and the model is told', async () => {
    const node = await submit('please WRITE-DENY');
    const pending = await permission(node.id, 'pending');
    expect(await engine.answerPermission(node.id, pending.requestId, 'deny')).toBe(true);
    const done = await finishedNode(engine, node.id);
    expect(existsSync(join(workspace, 'denied.txt'))).toBe(false);
    expect(answer(done)).toContain('The user denied this tool call from chat');
    expect((await permission(node.id, 'denied')).requestId).toBe(pending.requestId);
  });

  it('nobody answers: denied after PERMISSION_TIMEOUT, the model is told why', async () => {
    const node = await submit('please WRITE-LATE');
    await permission(node.id, 'pending');
    const done = await finishedNode(engine, node.id);
    expect(existsSync(join(workspace, 'late.txt'))).toBe(false);
    expect(answer(done)).toContain('No answer in 4 s: the tool call was denied.');
    await permission(node.id, 'expired');
  });

  it('Always: the same command later in the session is not asked again', async () => {
    const node = await submit('please BASH-ALWAYS');
    const pending = await permission(node.id, 'pending');
    expect(pending.summary).toBe('touch always.txt');
    expect(await engine.answerPermission(node.id, pending.requestId, 'always')).toBe(true);
    const done = await finishedNode(engine, node.id);
    expect(done.state).toBe('done');
    expect(seen.filter((item) => item.node.id === node.id && item.event.status === 'pending')).toHaveLength(
      1,
    );
    expect((await permission(node.id, 'allowed')).always).toBe(true);
    // Both calls ran: the model got two results and neither was a denial.
    expect(answer(done).split(' | ')).toHaveLength(2);
    expect(answer(done)).not.toMatch(/denied|No answer/);
    expect(existsSync(join(workspace, 'always.txt'))).toBe(true);
  });

  it('/stop while a prompt waits: the prompt is cancelled, nothing is written, the CLI is gone', async () => {
    const node = await submit('please WRITE-STOP');
    const pending = await permission(node.id, 'pending');
    const origin = node.messages[0]?.ref;
    if (origin === undefined) throw new Error('no origin');
    const { stopped } = await engine.stop({ kind: 'message', ref: origin });
    expect(stopped.map((n) => n.id)).toEqual([node.id]);
    expect((await permission(node.id, 'cancelled')).requestId).toBe(pending.requestId);
    expect(engine.getNode(node.id)?.state).toBe('stopped');
    expect(await engine.answerPermission(node.id, pending.requestId, 'allow')).toBe(false);
    expect(rig.cliPids()).toEqual([]);
    expect(existsSync(join(workspace, 'stopped.txt'))).toBe(false);
  });
});
