import { execa } from 'execa';
import { createLineDecoder } from './line-decoder.js';
import type { ExitFacts, Termination } from './outcome.js';

// Runs one CLI process: spawns it in its own process group (argument array, no shell), writes the prompt to
// stdin, hands every stdout line to `onLine` while stderr is read concurrently (no pipe deadlock), and ends it
// on request: SIGINT (the CLI prints its result and exits 0), SIGTERM after a grace period, SIGKILL last, each
// to the whole group so tools the CLI started (Bash) go too. The first reason to end wins.
//
// stdin: the prompt is one stream-json user line and stdin is then closed. The CLI runs that turn, including
// any background sub-agent turns, and exits by itself. Keeping stdin open would let an interrupt or a
// permission answer go in as a control message, but then the CLI waits for more turns and we would have to
// decide when the run is over (background agents print their results late, FINDINGS B4); that belongs with the
// permission-prompt feature, which can open this up here without touching the engine.

export interface CliRunOptions {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: string;
  idleTimeoutMs: number;
  /** Wait after SIGINT before SIGTERM, and after SIGTERM before SIGKILL. */
  graceMs: number;
  onLine(line: string): void;
  onSpawn?(pid: number): void;
}

export interface CliRun {
  readonly pid: number | undefined;
  /** Ends the process (escalating); the first reason given is kept. */
  stop(reason: 'stop' | 'timeout'): void;
  /** SIGKILL to the group at once, synchronously (the relay itself is exiting). */
  kill(): void;
  readonly exit: Promise<Omit<ExitFacts, 'strayLines'>>;
}

const STDERR_KEEP = 8 * 1024;

export function startCliRun(options: CliRunOptions): CliRun {
  const subprocess = execa(options.bin, options.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    buffer: false,
    reject: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const pid = subprocess.pid;
  if (pid !== undefined) options.onSpawn?.(pid);

  let termination: Termination = null;
  let exited = false;
  let stderr = '';
  const timers: NodeJS.Timeout[] = [];

  const signalGroup = (signal: NodeJS.Signals, afterExit = false): void => {
    if (pid === undefined || (exited && !afterExit)) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone, which is what we wanted.
    }
  };

  const stop = (reason: 'stop' | 'timeout'): void => {
    if (termination !== null || exited) return;
    termination = reason;
    signalGroup('SIGINT');
    timers.push(setTimeout(() => signalGroup('SIGTERM'), options.graceMs));
    timers.push(setTimeout(() => signalGroup('SIGKILL'), options.graceMs * 2));
  };

  const idle = setTimeout(() => stop('timeout'), options.idleTimeoutMs);
  const touch = (): void => {
    if (termination === null) idle.refresh();
  };

  const decoder = createLineDecoder();
  subprocess.stdout?.on('data', (chunk: Buffer) => {
    touch();
    for (const line of decoder.feed(chunk)) options.onLine(line);
  });
  subprocess.stderr?.on('data', (chunk: Buffer) => {
    touch();
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
  });
  // A CLI that dies before reading its prompt makes this write fail with EPIPE; the exit tells the story.
  subprocess.stdin?.on('error', () => {});
  subprocess.stdin?.end(options.stdin);

  const exit = (async () => {
    const result = await subprocess;
    exited = true;
    clearTimeout(idle);
    for (const timer of timers) clearTimeout(timer);
    // The CLI is gone, but a tool it started (a Bash command ignoring SIGINT) may not be: when we ended the run,
    // or the CLI died by a signal, nothing of its group may keep working in the workspace. The group id cannot
    // have been handed to another process while members remain, and once none remain this is a no-op.
    if (termination !== null || result.signal !== undefined) signalGroup('SIGKILL', true);
    for (const line of decoder.flush()) options.onLine(line);
    const started = pid !== undefined && result.exitCode !== undefined ? true : result.signal !== undefined;
    const cause = result.cause instanceof Error ? result.cause.message : String(result.cause ?? '');
    return {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      spawnError: started
        ? null
        : `Could not start the Claude CLI (${options.bin}): ${cause || result.shortMessage}`,
      stderr,
      termination,
      idleMs: options.idleTimeoutMs,
    };
  })();

  return { pid, stop, kill: () => signalGroup('SIGKILL'), exit };
}
