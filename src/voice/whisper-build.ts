import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool, tail } from './run-tool.js';
import { whisperCliIn } from './whisper-cli.js';

// Builds whisper-cli from nodejs-whisper's bundled whisper.cpp source. nodejs-whisper never builds it on an
// offline machine, and `npm ci` deletes any earlier build (it lives inside node_modules). Used by
// `npm run build:whisper` and, at first need, by the transcriber.

export type BuildResult =
  | { ok: true; binary: string; built: boolean }
  /** `reason` is a full sentence; for no_cmake/no_compiler it is what the operator must do. */
  | { ok: false; kind: 'no_cmake' | 'no_compiler' | 'failed' | 'cancelled'; reason: string };

export interface BuildOptions {
  sourceDir: string;
  /** cmake's own percentage and a short description, as each step starts. */
  onProgress: (percent: number | null, line: string) => void;
  signal?: AbortSignal;
  jobs?: number;
}

export const BUILD_COMMAND = 'npm run build:whisper';

export async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export async function buildWhisperCli(options: BuildOptions): Promise<BuildResult> {
  const binary = whisperCliIn(options.sourceDir);
  if (await isExecutable(binary)) return { ok: true, binary, built: false };

  const cmake = await runTool('cmake', ['--version'], { signal: options.signal });
  if (cmake.kind === 'not_found') {
    return {
      ok: false,
      kind: 'no_cmake',
      reason: `cmake is not installed, so whisper-cli cannot be built. Install cmake and a C++ compiler (e.g. \`apt-get install cmake g++\`), then run \`${BUILD_COMMAND}\`.`,
    };
  }
  const build = join(options.sourceDir, 'build');
  const steps: Array<{ what: string; args: string[] }> = [
    {
      what: 'configure',
      args: [
        '-S',
        options.sourceDir,
        '-B',
        build,
        '-DWHISPER_BUILD_TESTS=OFF',
        '-DWHISPER_BUILD_SERVER=OFF',
        '-DCMAKE_BUILD_TYPE=Release',
      ],
    },
    {
      what: 'compile',
      args: ['--build', build, `-j${options.jobs ?? 2}`, '--config', 'Release', '--target', 'whisper-cli'],
    },
  ];
  for (const step of steps) {
    options.onProgress(null, `whisper.cpp: ${step.what}…`);
    const outcome = await runTool('cmake', step.args, {
      signal: options.signal,
      onLine: (line) => {
        const match = /^\[\s*(\d+)%\]\s*(.*)$/.exec(line);
        if (match) options.onProgress(Number(match[1]), match[2] ?? '');
      },
    });
    if (outcome.kind === 'cancelled')
      return { ok: false, kind: 'cancelled', reason: 'The whisper-cli build was cancelled.' };
    if (outcome.kind !== 'exited' || outcome.exitCode !== 0) {
      const stderr = outcome.kind === 'exited' || outcome.kind === 'killed' ? outcome.stderr : '';
      const noCompiler = /CMAKE_(CXX|C)_COMPILER|compiler.*not found|No CMAKE_/i.test(stderr);
      return {
        ok: false,
        kind: noCompiler ? 'no_compiler' : 'failed',
        reason: noCompiler
          ? `No C/C++ compiler was found, so whisper-cli cannot be built. Install one (e.g. \`apt-get install g++\`), then run \`${BUILD_COMMAND}\`.`
          : `Building whisper-cli failed at the ${step.what} step:\n${tail(stderr, 12)}`,
      };
    }
  }
  if (!(await isExecutable(binary))) {
    return { ok: false, kind: 'failed', reason: `The build finished but ${binary} is not there.` };
  }
  return { ok: true, binary, built: true };
}
