import { ExecaError, execa } from 'execa';

// Runs an external tool (ffmpeg, whisper-cli, cmake) with an argument array, never a shell string, and turns
// every way it can end into a value: the callers map these to what the user is told.

export type ToolOutcome =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string; durationMs: number }
  | { kind: 'cancelled' }
  | { kind: 'not_found' }
  | { kind: 'killed'; signal: string; stderr: string };

export interface RunToolOptions {
  signal?: AbortSignal | undefined;
  cwd?: string;
  /** Called with each stdout line as it arrives (build progress). */
  onLine?: (line: string) => void;
}

/** SIGTERM on cancel, SIGKILL if the tool is still there this much later. */
const FORCE_KILL_AFTER_MS = 2_000;

export async function runTool(
  file: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolOutcome> {
  const started = performance.now();
  const onLine = options.onLine;
  try {
    const result = await execa(file, args, {
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      forceKillAfterDelay: FORCE_KILL_AFTER_MS,
      stdin: 'ignore',
      reject: true,
      ...(onLine
        ? {
            stdout: [
              function* (line: unknown) {
                if (typeof line === 'string') onLine(line);
                yield line;
              },
            ],
          }
        : {}),
    });
    return {
      kind: 'exited',
      exitCode: result.exitCode ?? 0,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    if (!(error instanceof ExecaError)) throw error;
    if (error.isCanceled) return { kind: 'cancelled' };
    if (error.code === 'ENOENT' || error.code === 'EACCES') return { kind: 'not_found' };
    const stderr = typeof error.stderr === 'string' ? error.stderr : '';
    if (error.signal) return { kind: 'killed', signal: error.signal, stderr };
    return {
      kind: 'exited',
      exitCode: error.exitCode ?? -1,
      stdout: typeof error.stdout === 'string' ? error.stdout : '',
      stderr: stderr || error.shortMessage,
      durationMs: performance.now() - started,
    };
  }
}

/** The last lines of a tool's stderr, for the log: enough to diagnose, never the whole build output. */
export function tail(text: string, lines = 8): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
