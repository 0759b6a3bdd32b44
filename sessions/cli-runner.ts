import { execa } from 'execa';
import { createLineDecoder } from './line-decoder.js';
import type { ExitFacts, Termination } from './outcome.js';

// Runs one CLI process: spawns it in its own process group (argument array, no shell), writes the prompt to
// stdin, hands every stdout line to `onLine` while stderr is read concurrently (no pipe deadlock), and ends it
// on request: SIGINT (the CLI prints its result and exits 0), SIGTERM after a grace period, SIGKILL last, each
// to the whole group so tools the CLI started (Bash) go too. The first reason to end wins.
//
// stdin, by default: the prompt is one stream-json user line and stdin is then closed. The CLI runs that turn,
// including any background sub-agent turns, and exits by itself.
// With `keepInputOpen` (permission prompts answered from chat) stdin stays open after the prompt for control
// messages (`send`): permission answers and the interrupt that `stop` sends first. The CLI then waits for more
// turns, so the caller says when the run is over (`endInput`, engine.ts: at the final result). A stop sends the
// interrupt and closes stdin; the signals follow only if the CLI has not ended a grace period later.
//
// Pre-started (`stdin: null`): the process starts and waits for its first message; `begin` later gives it its
// prompt and its line handler, and only then does the idle clock run (waiting for work is not being stuck).

export interface CliRunOptions {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The prompt line(s), or null: a pre-started process that waits for `begin`. */
  stdin: string | null;
  idleTimeoutMs: number;
  /** Wait after SIGINT before SIGTERM, and after SIGTERM before SIGKILL. */
  graceMs: number;
  /** Every stdout line (a pre-started process: until `begin` brings the task's handler). */
  onLine(line: string): void;
  onSpawn?(pid: number): void;
  /** Keep stdin open after the prompt for control messages (see above). */
  keepInputOpen?: boolean;
  /** The interrupt control line `stop` sends first when stdin is open. */
  interruptLine?: string;
}

export interface CliRun {
  readonly pid: number | undefined;
  /** Ends the process (escalating); the first reason given is kept. */
  stop(reason: 'stop' | 'timeout'): void;
  /** SIGKILL to the group at once, synchronously (the relay itself is exiting). */
  kill(): void;
  /** Writes one control line to stdin while it is open; false when it is closed (the line is dropped). */
  send(line: string): boolean;
  /** Closes stdin: the CLI finishes what it is doing and exits. Idempotent. */
  endInput(): void;
  /** While held (a permission prompt waits for a person) silence is no reason to stop the run. */
  holdIdle(held: boolean): void;
  /**
   * Gives a pre-started process its work: its lines go to the work's handler from now on. False when it cannot
   * take it (it has exited, or already has work): the caller starts another.
   */
  begin(work: RunWork): boolean;
  readonly exit: Promise<Omit<ExitFacts, 'strayLines'>>;
}

/** What a pre-started run is given when a task takes it. */
export interface RunWork {
  stdin: string;
  keepInputOpen: boolean;
  interruptLine?: string;
  onLine(line: string): void;
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

  let onLine = options.onLine;
  let interruptLine = options.interruptLine;
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

  const stdin = subprocess.stdin;
  let inputOpen = stdin !== null;
  const send = (line: string): boolean => {
    if (!inputOpen || stdin === null || exited) return false;
    stdin.write(line);
    return true;
  };
  const endInput = (): void => {
    if (!inputOpen) return;
    inputOpen = false;
    stdin?.end();
  };

  const stop = (reason: 'stop' | 'timeout'): void => {
    if (termination !== null || exited) return;
    termination = reason;
    // The interrupt ends the turn cleanly (an open prompt is withdrawn, the partial answer stays in the
    // session); the signals are the fallback for a CLI that does not react to it.
    const interrupted = interruptLine !== undefined && send(interruptLine);
    endInput();
    const lead = interrupted ? options.graceMs : 0;
    const escalate = (signal: NodeJS.Signals, at: number): void => {
      if (at === 0) signalGroup(signal);
      else timers.push(setTimeout(() => signalGroup(signal), at));
    };
    escalate('SIGINT', lead);
    escalate('SIGTERM', lead + options.graceMs);
    escalate('SIGKILL', lead + options.graceMs * 2);
  };

  let idleHeld = false;
  // A held timer that fires does nothing; releasing re-arms it for a full period (refresh re-activates a timer
  // that has fired, not one that was cleared). Armed when the process has work.
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    idle = setTimeout(() => {
      if (!idleHeld) stop('timeout');
    }, options.idleTimeoutMs);
  };
  const touch = (): void => {
    if (termination === null) idle?.refresh();
  };
  const holdIdle = (held: boolean): void => {
    idleHeld = held;
    if (!held && termination === null && !exited) idle?.refresh();
  };

  const decoder = createLineDecoder();
  subprocess.stdout?.on('data', (chunk: Buffer) => {
    touch();
    for (const line of decoder.feed(chunk)) onLine(line);
  });
  subprocess.stderr?.on('data', (chunk: Buffer) => {
    touch();
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
  });
  // A CLI that dies before reading its prompt makes this write fail with EPIPE; the exit tells the story.
  stdin?.on('error', () => {});
  const giveInput = (text: string, keepOpen: boolean): void => {
    armIdle();
    if (keepOpen) stdin?.write(text);
    else {
      inputOpen = false;
      stdin?.end(text);
    }
  };
  if (options.stdin !== null) giveInput(options.stdin, options.keepInputOpen === true);
  const begin = (work: RunWork): boolean => {
    // `exited` is set when execa settles; a process killed just now may still look alive, and its exit then
    // tells the task (crashed) as for any CLI that dies.
    if (idle !== undefined || exited || termination !== null) return false;
    onLine = work.onLine;
    interruptLine = work.interruptLine;
    giveInput(work.stdin, work.keepInputOpen);
    return true;
  };

  const exit = (async () => {
    const result = await subprocess;
    exited = true;
    inputOpen = false;
    clearTimeout(idle);
    for (const timer of timers) clearTimeout(timer);
    // The CLI is gone, but a tool it started (a Bash command ignoring SIGINT) may not be: when we ended the run,
    // or the CLI died by a signal, nothing of its group may keep working in the workspace. The group id cannot
    // have been handed to another process while members remain, and once none remain this is a no-op.
    if (termination !== null || result.signal !== undefined) signalGroup('SIGKILL', true);
    for (const line of decoder.flush()) onLine(line);
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

  return { pid, stop, kill: () => signalGroup('SIGKILL'), send, endInput, holdIdle, begin, exit };
}
