import { describe, expect, it } from 'vitest';
import { buildCliArgs, buildCliEnv, promptLine } from '../../sessions/cli-command.js';
import { type ExitFacts, stateOf, toOutcome } from '../../sessions/outcome.js';
import { replayTranscript } from './transcripts.js';

const exit = (facts: Partial<ExitFacts>): ExitFacts => ({
  exitCode: 0,
  signal: null,
  spawnError: null,
  stderr: '',
  strayLines: [],
  termination: null,
  idleMs: 600_000,
  ...facts,
});

describe('outcome of a run', () => {
  it('done with the final answer', () => {
    const { summary } = replayTranscript('2.1.330', '24-agent-subagent');
    expect(toOutcome(summary, exit({}))).toEqual({ kind: 'done', text: 'Hi! This is the mock model.' });
  });

  it('names the model that answered: the main agent’s, never the CLI’s own <synthetic> error message', () => {
    expect(replayTranscript('2.1.330', '24-agent-subagent').summary.model).toBe('claude-opus-5-5');
    expect(replayTranscript('2.1.197', '09-errors-always529-maxretries2').summary.model).toBeNull();
  });

  it("error with the CLI's own message after it gave up on 529s", () => {
    const { summary } = replayTranscript('2.1.197', '09-errors-always529-maxretries2');
    const outcome = toOutcome(summary, exit({ exitCode: 1 }));
    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && outcome.message).toMatch(/^API Error: 529 Overloaded/);
    expect(stateOf(outcome)).toBe('error');
  });

  it('error naming the missing session when a resume fails', () => {
    const { summary } = replayTranscript('2.1.330', '18f-resume-nonexistent');
    expect(toOutcome(summary, exit({ exitCode: 1 }))).toEqual({
      kind: 'error',
      message: 'No conversation found with session ID: 11111111-2222-3333-4444-555555555555',
    });
  });

  it('stopped with the partial text when we sent SIGINT', () => {
    const { summary } = replayTranscript('2.1.330', '12-sigterm-midstream');
    const outcome = toOutcome(summary, exit({ termination: 'stop', exitCode: 143 }));
    expect(outcome).toMatchObject({ kind: 'stopped' });
    expect(outcome.kind === 'stopped' && outcome.partialText).toMatch(/^word0/);
    expect(stateOf(outcome)).toBe('stopped');
  });

  it('a success that came before the stop stands', () => {
    const { summary } = replayTranscript('2.1.330', '01-text-authtoken');
    expect(toOutcome(summary, exit({ termination: 'stop' })).kind).toBe('done');
  });

  it('timed out after the idle limit', () => {
    const { summary } = replayTranscript('2.1.330', '12-sigterm-midstream');
    expect(toOutcome(summary, exit({ termination: 'timeout', exitCode: 0, idleMs: 5000 }))).toMatchObject({
      kind: 'timed_out',
      idleMs: 5000,
    });
  });

  it('crashed with exit code, signal and stderr when there is no result', () => {
    const { summary } = replayTranscript('2.1.330', '12-sigterm-midstream');
    expect(
      toOutcome(
        summary,
        exit({ exitCode: null, signal: 'SIGSEGV', stderr: 'boom\n', strayLines: ['not json'] }),
      ),
    ).toEqual({ kind: 'crashed', exitCode: null, signal: 'SIGSEGV', detail: 'boom\nnot json' });
  });

  it('a binary that cannot start is an error saying so', () => {
    const summary = { sessionId: null, result: null, partialText: '', model: null };
    expect(
      toOutcome(summary, exit({ spawnError: 'Could not start the Claude CLI (/nope): ENOENT' })),
    ).toEqual({
      kind: 'error',
      message: 'Could not start the Claude CLI (/nope): ENOENT',
    });
  });
});

describe('CLI command line and environment', () => {
  it('forks the parent session and adds the allowed directories', () => {
    const args = buildCliArgs({ addDirs: ['/srv/a'], resumeSessionId: 'abc' });
    expect(args.slice(0, 8)).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      '--input-format',
      'stream-json',
      '--dangerously-skip-permissions',
    ]);
    expect(args.slice(8)).toEqual(['--add-dir', '/srv/a', '--resume', 'abc', '--fork-session']);
    expect(buildCliArgs({ addDirs: [], resumeSessionId: null })).not.toContain('--resume');
  });

  it('skip mode with someone to answer: questions come over stdin, tool calls still skip permissions', () => {
    const chat = buildCliArgs({ addDirs: [], resumeSessionId: null, permissions: 'skip', questions: true });
    expect(chat.join(' ')).toContain('--dangerously-skip-permissions --permission-prompt-tool stdio');
    // An API request has nobody to answer: its model is offered no question tool.
    const api = buildCliArgs({ addDirs: [], resumeSessionId: null, permissions: 'skip', questions: false });
    expect(api).not.toContain('--permission-prompt-tool');
  });

  it('ask mode: the CLI asks over stdin in default mode, never skips permissions, claims no sandbox', () => {
    const args = buildCliArgs({ addDirs: [], resumeSessionId: null, permissions: 'ask' });
    expect(args).not.toContain('--dangerously-skip-permissions');
    expect(args.join(' ')).toContain('--permission-prompt-tool stdio --permission-mode default');
    const env = buildCliEnv({
      inherited: {},
      backend: 'proxy',
      proxy: { url: 'http://127.0.0.1:9', authToken: undefined },
      uid: 0,
      extra: { IS_SANDBOX: '1' },
      permissions: 'ask',
    });
    expect(env.IS_SANDBOX).toBeUndefined();
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
  });

  it('writes the prompt as one stream-json user line, newlines and all', () => {
    const line = promptLine('two\nlines "quoted"');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({
      type: 'user',
      message: { role: 'user', content: [{ type: 'text', text: 'two\nlines "quoted"' }] },
    });
  });

  it('proxy mode: points at the proxy and never passes the user key', () => {
    const env = buildCliEnv({
      inherited: { PATH: '/bin', ANTHROPIC_API_KEY: 'sk-ant-user', OPENROUTER_API_KEY: 'sk-or', HOME: '/h' },
      backend: 'proxy',
      proxy: { url: 'http://127.0.0.1:9', authToken: undefined },
      uid: 0,
      extra: { HOME: '/tmp/home', ANTHROPIC_API_KEY: 'sk-sneaky' },
    });
    expect(env).toMatchObject({
      PATH: '/bin',
      HOME: '/tmp/home',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IS_SANDBOX: '1',
    });
    expect(env.ANTHROPIC_AUTH_TOKEN).toBeTruthy();
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(Object.values(env)).not.toContain('sk-or');
  });

  it('anthropic mode keeps the login; no sandbox flag for a normal user', () => {
    const env = buildCliEnv({
      inherited: { ANTHROPIC_API_KEY: 'sk-ant-user' },
      backend: 'anthropic',
      proxy: null,
      uid: 1000,
      extra: {},
    });
    expect(env.ANTHROPIC_API_KEY).toBe('sk-ant-user');
    expect(env.IS_SANDBOX).toBeUndefined();
  });
});
