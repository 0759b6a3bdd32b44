import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { runTool, tail } from './run-tool.js';
import { type Failure, fail } from './types.js';

// whisper-cli from the whisper.cpp source bundled in nodejs-whisper, called directly with an argument array:
// nodejs-whisper's own JS API changes the process's cwd and builds shell strings, which concurrent sessions
// cannot tolerate.

/** The whisper.cpp source tree inside the installed nodejs-whisper package, found via module resolution. */
export function whisperSourceDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('nodejs-whisper/package.json')), 'cpp', 'whisper.cpp');
}

export function whisperCliIn(sourceDir: string): string {
  return join(sourceDir, 'build', 'bin', 'whisper-cli');
}

export interface WhisperRun {
  cliPath: string;
  modelPath: string;
  wavPath: string;
  language: string;
  /** false → `-ng` (no GPU); the CPU build ignores GPU flags anyway, but cuda/auto leave it to whisper.cpp. */
  gpu: boolean;
  threads?: number;
}

export function whisperArgs(run: WhisperRun): string[] {
  const threads = run.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  const args = ['-m', run.modelPath, '-f', run.wavPath, '-l', run.language, '-t', String(threads), '-nt'];
  if (!run.gpu) args.push('-ng');
  return args;
}

const TIMESTAMP = /^\s*\[\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\]/;
// Whole-segment annotations whisper emits for non-speech: "[BLANK_AUDIO]", "[Music]", "(silence)".
const ANNOTATION = /^(\[[^\]]*\]|\([^)]*\))$/;

/** The spoken text in whisper-cli's stdout, with or without `-nt` timestamps; "" when nothing was said. */
export function parseWhisperOutput(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .map((line) => line.replace(TIMESTAMP, '').trim())
    .filter((line) => line.length > 0 && !ANNOTATION.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export type WhisperResult = { ok: true; text: string; durationMs: number } | Failure;

export async function runWhisper(
  run: WhisperRun,
  signal: AbortSignal | undefined,
  onDetail: (detail: string) => void,
): Promise<WhisperResult> {
  const outcome = await runTool(run.cliPath, whisperArgs(run), { signal });
  switch (outcome.kind) {
    case 'cancelled':
      return fail('cancelled', 'Transcription cancelled.');
    case 'not_found':
      return fail(
        'whisper_missing',
        `The speech recogniser (whisper-cli) is not built: ${run.cliPath} is missing. ` +
          'The operator can build it with `npm run build:whisper`.',
      );
    case 'killed':
      onDetail(`whisper-cli killed by ${outcome.signal}: ${tail(outcome.stderr)}`);
      return fail('failed', 'The speech recogniser stopped unexpectedly. Please try again or send text.');
    case 'exited':
      break;
  }
  // whisper-cli exits 0 even when it could not read the audio (it skips the file), so stderr decides too.
  const audioUnreadable = /error: failed to read audio/i.test(outcome.stderr);
  if (outcome.exitCode !== 0 || audioUnreadable) {
    onDetail(`whisper-cli exited with ${outcome.exitCode}: ${tail(outcome.stderr)}`);
    if (audioUnreadable) {
      return fail(
        'decode_failed',
        'The voice note could not be decoded: the file looks damaged or incomplete. Please record it again or send text.',
      );
    }
    if (/failed to initialize whisper context|failed to load model|invalid model/i.test(outcome.stderr)) {
      return fail(
        'model_missing',
        `The speech model ${run.modelPath} could not be loaded (it may be incomplete or not a ggml model). ` +
          'The operator should download it again.',
      );
    }
    return fail('failed', 'Transcription failed on the relay. Please try again or send text.');
  }
  return { ok: true, text: parseWhisperOutput(outcome.stdout), durationMs: outcome.durationMs };
}
