import { execa } from 'execa';
import type { CliCheck } from './types.js';

// Checked once at start. The relay still starts when the CLI cannot run — its user may be on a phone, where a
// silent bot says nothing, while each task's error message says what is wrong — but the log says so at once;
// a version the relay was never tested with earns a warning (the stream-json output and the control protocol
// change between versions, the most common way relays like this break).

/** The versions whose recorded output the tests and fixtures cover (shared/reference). */
export const TESTED_CLI_VERSIONS = ['2.1.330', '2.1.197'] as const;

export async function checkCliVersion(bin: string, env: Record<string, string>): Promise<CliCheck> {
  const result = await execa(bin, ['--version'], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 15_000,
    stdin: 'ignore',
  });
  if (result.failed) {
    const why = result.code ?? (result.timedOut ? 'no answer within 15 s' : `exit code ${result.exitCode}`);
    return { ok: false, problem: `CLAUDE_BIN ${bin} cannot be run (${why})` };
  }
  const firstLine = `${result.stdout}`.trim().split('\n')[0] ?? '';
  const version = /^(\d+\.\d+\.\d+)/.exec(firstLine)?.[1];
  if (version === undefined) {
    return {
      ok: false,
      problem: `CLAUDE_BIN ${bin} does not look like Claude Code: \`--version\` printed ${JSON.stringify(firstLine.slice(0, 80))}`,
    };
  }
  return { ok: true, version, tested: (TESTED_CLI_VERSIONS as readonly string[]).includes(version) };
}
