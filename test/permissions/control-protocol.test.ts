import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliEvent } from '../../sessions/cli-events.js';
import {
  alwaysAllowUpdates,
  encodeAllow,
  encodeDeny,
  encodeInterrupt,
  type PermissionRequest,
  parseControlMessage,
} from '../../sessions/control-protocol.js';

// The control protocol against the recorded 2.1.330 transcripts (shared/reference, never copied): every control
// line the CLI printed parses, and what we would answer is what the recording driver answered (and the CLI took).

const RUNS = '/work/shared/reference/claude-cli-2.1.330/control-protocol/runs';

interface Line {
  dir: 'in' | 'out';
  msg: Record<string, unknown>;
}

function linesOf(run: string): Line[] {
  const file = readdirSync(RUNS).find((name) => name.startsWith(run.slice(0, 2)) && name.endsWith('.jsonl'));
  if (file === undefined) throw new Error(`no recording for ${run}`);
  const lines: Line[] = [];
  for (const text of readFileSync(join(RUNS, file), 'utf8').split('\n')) {
    if (text === '') continue;
    const record: unknown = JSON.parse(text);
    if (typeof record !== 'object' || record === null) continue;
    const { run: name, dir, msg } = record as { run?: unknown; dir?: unknown; msg?: unknown };
    if (name !== run || (dir !== 'in' && dir !== 'out') || typeof msg !== 'object' || msg === null) continue;
    lines.push({ dir, msg: msg as Record<string, unknown> });
  }
  if (lines.length === 0) throw new Error(`run ${run} has no lines`);
  return lines;
}

/** The first permission request the CLI printed in a run, parsed. */
function firstRequest(run: string): PermissionRequest {
  for (const line of linesOf(run)) {
    const message = line.dir === 'out' ? parseControlMessage(line.msg) : null;
    if (message?.kind === 'can_use_tool') return message.request;
  }
  throw new Error(`no can_use_tool in ${run}`);
}

/** The driver's answer to a request, as the CLI received it. */
function recordedAnswer(run: string, requestId: string): unknown {
  const found = linesOf(run).find((line) => {
    const response = line.msg.response as { request_id?: unknown } | undefined;
    return line.dir === 'in' && line.msg.type === 'control_response' && response?.request_id === requestId;
  });
  if (found === undefined) throw new Error(`no answer to ${requestId} in ${run}`);
  return found.msg;
}

/** Our line minus the SDK's `toolUseID` (which the driver did not send; runs/13 show both versions take it). */
function withoutToolUseId(line: string): unknown {
  const value = JSON.parse(line) as { response: { response: Record<string, unknown> } };
  delete value.response.response.toolUseID;
  return value;
}

describe('control protocol: decoding the recorded CLI output', () => {
  it('every control line of every 2.1.330 and 2.1.197 run is typed, none lost as unknown', () => {
    const kinds = new Map<string, number>();
    for (const file of readdirSync(RUNS).filter((name) => name.endsWith('.jsonl'))) {
      for (const text of readFileSync(join(RUNS, file), 'utf8').split('\n')) {
        if (!text.includes('"dir":"out"')) continue;
        const { msg } = JSON.parse(text) as { msg: { type?: unknown } };
        if (typeof msg.type !== 'string' || !msg.type.startsWith('control')) continue;
        const message = parseControlMessage(msg);
        expect(message, text.slice(0, 120)).not.toBeNull();
        const event = parseCliEvent(msg);
        expect(event?.kind, text.slice(0, 120)).toBe('control');
        if (message !== null) kinds.set(message.kind, (kinds.get(message.kind) ?? 0) + 1);
      }
    }
    expect(kinds.get('can_use_tool')).toBeGreaterThan(20);
    expect(kinds.get('cancel')).toBeGreaterThan(0);
    expect(kinds.get('response')).toBeGreaterThan(10);
  });

  it('reads a Bash prompt: tool, input, suggestions, blocked path (runs/15 gallery)', () => {
    const requests = linesOf('15-can-use-tool-gallery-330')
      .map((line) => (line.dir === 'out' ? parseControlMessage(line.msg) : null))
      .flatMap((message) => (message?.kind === 'can_use_tool' ? [message.request] : []));
    const rm = requests.find((request) => JSON.stringify(request.input).includes('rm -rf build'));
    expect(rm).toMatchObject({
      toolName: 'Bash',
      input: { command: 'rm -rf build', description: 'Remove build dir' },
      description: 'Remove build dir',
      blockedPath: '/home/user/work/15-can-use-tool-gallery-330/build',
      requiresUserInteraction: false,
    });
    expect(rm?.suggestions.map((update) => update.type)).toEqual(['addRules', 'addDirectories', 'setMode']);
    const outside = requests.find((request) => request.decisionReason !== null);
    expect(outside?.decisionReason).toBe('Path is outside allowed working directories');
  });

  it('reads the withdrawal of an open prompt after an interrupt (runs/06)', () => {
    const run = '06-interrupt-while-permission-pending-330';
    const request = firstRequest(run);
    const cancels = linesOf(run)
      .map((line) => (line.dir === 'out' ? parseControlMessage(line.msg) : null))
      .filter((message) => message?.kind === 'cancel');
    expect(cancels).toEqual([{ kind: 'cancel', requestId: request.requestId }]);
  });

  it('an unknown control request subtype is kept as unsupported, not taken for a prompt', () => {
    expect(
      parseControlMessage({
        type: 'control_request',
        request_id: 'r1',
        request: { subtype: 'hook_callback' },
      }),
    ).toEqual({ kind: 'unsupported_request', requestId: 'r1', subtype: 'hook_callback' });
    expect(parseControlMessage({ type: 'control_request', request: {} })).toBeNull();
    expect(parseControlMessage('not an object')).toBeNull();
  });
});

describe('control protocol: encoding our answers as the CLI took them', () => {
  it('allow echoes the input (runs/02-write-allow-330)', () => {
    const run = '02-write-allow-330';
    const request = firstRequest(run);
    expect(withoutToolUseId(encodeAllow(request))).toEqual(recordedAnswer(run, request.requestId));
    expect(JSON.parse(encodeAllow(request)).response.response.toolUseID).toBe(request.toolUseId);
  });

  it('deny carries the message for the model (runs/02-write-deny-330)', () => {
    const run = '02-write-deny-330';
    const request = firstRequest(run);
    expect(withoutToolUseId(encodeDeny(request, 'The user clicked Deny in Discord.'))).toEqual(
      recordedAnswer(run, request.requestId),
    );
  });

  it('always for Bash: the suggested rule, in memory only (runs/03-bash-rule-session-330, not asked again)', () => {
    const run = '03-bash-rule-session-330';
    const request = firstRequest(run);
    expect(request.suggestions.find((update) => update.type === 'addRules')).toMatchObject({
      destination: 'localSettings',
    });
    expect(withoutToolUseId(encodeAllow(request, alwaysAllowUpdates(request)))).toEqual(
      recordedAnswer(run, request.requestId),
    );
  });

  it('always for a Write outside the workspace: acceptEdits plus that directory, for this session only', () => {
    const outside = linesOf('15-can-use-tool-gallery-330')
      .map((line) => (line.dir === 'out' ? parseControlMessage(line.msg) : null))
      .flatMap((message) => (message?.kind === 'can_use_tool' ? [message.request] : []))
      .find((request) => request.decisionReason !== null);
    expect(outside === undefined ? [] : alwaysAllowUpdates(outside)).toEqual([
      { type: 'setMode', mode: 'acceptEdits', destination: 'session' },
      { type: 'addDirectories', directories: ['/home/user'], destination: 'session' },
    ]);
  });

  it('always for Write: the acceptEdits mode for this session (runs/03-write-always-allow-330)', () => {
    const run = '03-write-always-allow-330';
    const request = firstRequest(run);
    expect(withoutToolUseId(encodeAllow(request, alwaysAllowUpdates(request)))).toEqual(
      recordedAnswer(run, request.requestId),
    );
  });

  it('always without any suggestion (a compound Bash command) builds a rule for that command', () => {
    const compound = linesOf('15-can-use-tool-gallery-330')
      .map((line) => (line.dir === 'out' ? parseControlMessage(line.msg) : null))
      .flatMap((message) => (message?.kind === 'can_use_tool' ? [message.request] : []))
      .find((request) => request.suggestions.length === 0 && request.toolName === 'Bash');
    expect(compound).toBeDefined();
    if (compound === undefined) return;
    expect(alwaysAllowUpdates(compound)).toEqual([
      {
        type: 'addRules',
        rules: [{ toolName: 'Bash', ruleContent: 'curl -s http://127.0.0.1:9/ > out.txt && git push' }],
        behavior: 'allow',
        destination: 'session',
      },
    ]);
  });

  it('interrupt is the request the recording sent (runs/06)', () => {
    const sent = linesOf('06-interrupt-while-permission-pending-330').find(
      (line) => line.dir === 'in' && line.msg.type === 'control_request' && line.msg.request_id === 'int_1',
    );
    expect(JSON.parse(encodeInterrupt('int_1'))).toEqual(sent?.msg);
    expect(encodeInterrupt('int_1').endsWith('\n')).toBe(true);
  });
});
