import { execa } from 'execa';

// Checked once at start: a CLAUDE_BIN that cannot run should stop the relay with one clear line, not fail every
// task later; a version the relay was never tested with earns a warning (the stream-json output and the control
// protocol change between versions, the most common way relays like this break).

/** The versions whose recorded output the tests and fixtures cover (shared/reference). */
export const TESTED_CLI_VERSIONS = ['2.1.330', '2.1.197'] as const;

export class CliUnavailableError extends Error {
  override name = 'CliUnavailableError';
}

export interface CliVersion {
  version: string;
  tested: boolean;
}

export async function checkCliVersion(bin: string, env: Record<string, string>): Promise<CliVersion> {
  const result = await execa(bin, ['--version'], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 15_000,
    stdin: 'ignore',
  });
  const output = `${result.stdout}`.trim();
  if (result.failed) {
    const why = result.code ?? (result.timedOut ? 'no answer within 15 s' : `exit code ${result.exitCode}`);
    throw new CliUnavailableError(
      `CLAUDE_BIN ${bin} cannot be run (${why}); point CLAUDE_BIN at a Claude Code CLI or unset it to use the bundled one`,
    );
  }
  const version = /^(\d+\.\d+\.\d+)/.exec(output)?.[1];
  if (version === undefined) {
    throw new CliUnavailableError(
      `CLAUDE_BIN ${bin} does not look like Claude Code: \`--version\` printed ${JSON.stringify((output.split('\n')[0] ?? '').slice(0, 80))}`,
    );
  }
  return { version, tested: (TESTED_CLI_VERSIONS as readonly string[]).includes(version) };
}
