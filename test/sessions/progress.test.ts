import { describe, expect, it } from 'vitest';
import type { StreamDelta } from '../../sessions/cli-events.js';
import { createProgressMapper } from '../../sessions/progress.js';
import { replayTranscript, textOf } from './transcripts.js';

const versions = ['2.1.197', '2.1.330'] as const;

describe('progress mapper over recorded transcripts', () => {
  for (const version of versions) {
    it(`${version}: streamed text is shown once, equal to the final answer`, () => {
      const { progress, summary } = replayTranscript(version, '21-partial-text');
      expect(progress.filter((event) => event.type === 'text').length).toBeGreaterThan(1);
      expect(textOf(progress)).toBe(summary.result?.text);
    });

    it(`${version}: thinking deltas then text, neither doubled by the complete blocks`, () => {
      const { progress, summary } = replayTranscript(version, '22-partial-thinking');
      expect(textOf(progress, 'thinking')).toBe('The user wants a greeting. I will say hi.');
      expect(textOf(progress)).toBe(summary.result?.text);
      expect(progress.findIndex((e) => e.type === 'thinking')).toBeLessThan(
        progress.findIndex((e) => e.type === 'text'),
      );
    });

    it(`${version}: without partial messages the complete blocks carry the text`, () => {
      const { progress } = replayTranscript(version, '07-thinking');
      expect(textOf(progress, 'thinking')).not.toBe('');
      expect(textOf(progress)).toBe('Hi there (after thinking)!');
    });

    it(`${version}: parallel tool calls with their inputs and results, the failing one marked`, () => {
      const { progress } = replayTranscript(version, '26-parallel-tools-error');
      const calls = progress.filter((event) => event.type === 'tool_call');
      const results = progress.filter((event) => event.type === 'tool_result');
      expect(calls.map((call) => [call.name, call.summary])).toEqual([
        ['Bash', 'echo one'],
        ['Bash', 'exit 3'],
      ]);
      expect(results.map((result) => [result.isError, result.summary])).toEqual([
        [false, 'one'],
        [true, 'Exit code 3'],
      ]);
      expect(results.map((r) => r.toolUseId)).toEqual(calls.map((c) => c.toolUseId));
    });

    it(`${version}: a Write call is summarised by its file path`, () => {
      const { progress } = replayTranscript(version, '05-tool-write');
      const call = progress.find((event) => event.type === 'tool_call');
      expect(call).toMatchObject({ name: 'Write', summary: `/home/user/work/05-tool-write/hello.txt` });
    });

    it(`${version}: a path inside the session's directory is shown relative to it, others in full`, () => {
      const inside = replayTranscript(version, '05-tool-write', '/home/user/work/05-tool-write');
      expect(inside.progress.find((event) => event.type === 'tool_call')).toMatchObject({
        summary: 'hello.txt',
      });
      const outside = replayTranscript(version, '05-tool-write', '/home/user/work/05-tool');
      expect(outside.progress.find((event) => event.type === 'tool_call')).toMatchObject({
        summary: '/home/user/work/05-tool-write/hello.txt',
      });
    });

    it(`${version}: a sub-agent starts, shows its own tool call under its task id, and finishes once`, () => {
      const { progress } = replayTranscript(version, '45-agent-subagent-with-tool');
      const sub = progress.filter((event) => event.type === 'subagent');
      const taskIds = new Set(sub.map((event) => event.taskId));
      expect(taskIds.size).toBe(1);
      expect(sub[0]).toMatchObject({ status: 'started', description: 'Say hi sub' });
      expect(sub).toContainEqual(expect.objectContaining({ tool: 'Bash: echo from-subagent' }));
      expect(sub.filter((event) => event.status === 'done')).toEqual([
        expect.objectContaining({ description: 'Say hi sub' }),
      ]);
      // The sub-agent's Bash call is not a tool call of the main conversation.
      expect(progress.filter((e) => e.type === 'tool_call').map((e) => e.name)).toEqual(['Agent']);
    });

    it(`${version}: retries are reported with attempt, delay and status`, () => {
      const { progress, summary } = replayTranscript(version, '08-errors-429-529');
      expect(progress.filter((event) => event.type === 'retry')).toEqual([
        expect.objectContaining({ attempt: 1, status: 429, error: 'rate_limit' }),
        expect.objectContaining({ attempt: 2, status: 529, error: 'overloaded' }),
      ]);
      expect(summary.result?.isError).toBe(false);
    });

    it(`${version}: compaction is announced once`, () => {
      const { progress } = replayTranscript(version, '32-slash-compact');
      expect(progress.filter((event) => event.type === 'compacting')).toHaveLength(1);
    });

    it(`${version}: a forked resume reports the new session id, not the parent's`, () => {
      const first = replayTranscript(version, '18a-session-first').summary.sessionId;
      const fork = replayTranscript(version, '18d-resume-fork').summary;
      expect(fork.sessionId).not.toBeNull();
      expect(fork.sessionId).not.toBe(first);
      expect(fork.result?.isError).toBe(false);
    });

    it(`${version}: SIGINT mid-stream keeps the partial text and an error_during_execution result`, () => {
      const { summary } = replayTranscript(version, '13-sigint-midstream');
      expect(summary.result).toMatchObject({ subtype: 'error_during_execution', isError: true });
      expect(summary.partialText).toMatch(/^word0 word1/);
    });
  }

  it('2.1.330: with a background sub-agent the final answer is the last of two results', () => {
    const { summary, events } = replayTranscript('2.1.330', '24-agent-subagent');
    expect(events.filter((event) => event.kind === 'result')).toHaveLength(2);
    expect(summary.result).toMatchObject({ resultIndex: 1, text: 'Hi! This is the mock model.' });
  });

  it('2.1.330 SIGTERM mid-stream: no result, the streamed text is the partial text', () => {
    const { summary } = replayTranscript('2.1.330', '12-sigterm-midstream');
    expect(summary.result).toBeNull();
    expect(summary.partialText).toMatch(/^word0 word1/);
  });

  it('adds what the deltas missed when a complete block is longer than its stream', () => {
    const mapper = createProgressMapper();
    const stream = (delta: StreamDelta) => ({
      kind: 'stream' as const,
      parentToolUseId: null,
      messageId: 'm1',
      delta,
    });
    mapper.map(stream({ type: 'message_start', messageId: 'm1' }));
    expect(mapper.map(stream({ type: 'text_delta', index: 0, text: 'Hel' }))).toEqual([
      { type: 'text', text: 'Hel' },
    ]);
    expect(
      mapper.map({
        kind: 'assistant',
        messageId: 'm1',
        parentToolUseId: null,
        blocks: [{ type: 'text', text: 'Hello' }],
        synthetic: false,
        model: 'fake-model',
        aborted: false,
      }),
    ).toEqual([{ type: 'text', text: 'lo' }]);
  });
});
