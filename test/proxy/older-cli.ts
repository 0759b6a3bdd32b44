import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

// The older Claude Code the README supports (2.1.197), installed on first use into node_modules/.cache from the npm
// registry (or npm's own cache, offline after the first time): the project's dependencies hold one CLI, the newest.

export const OLDER_CLI_VERSION = '2.1.197';

/** The older CLI's binary, installing it first if needed; null (with why) when it cannot be installed here. */
export async function olderCli(): Promise<{ bin: string } | { problem: string }> {
  const dir = resolve(import.meta.dirname, `../../node_modules/.cache/claude-code-${OLDER_CLI_VERSION}`);
  const bin = join(dir, 'node_modules/.bin/claude');
  if (existsSync(bin)) return { bin };
  mkdirSync(dir, { recursive: true });
  // Its postinstall links the platform binary; strict-allow-scripts (this project's .npmrc) reaches npm here too.
  const manifest = {
    name: 'older-claude-cli',
    private: true,
    allowScripts: { '@anthropic-ai/claude-code': true },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest)}\n`);
  const install = await execa(
    'npm',
    ['install', '--no-audit', '--no-fund', `@anthropic-ai/claude-code@${OLDER_CLI_VERSION}`],
    { cwd: dir, reject: false, timeout: 240_000 },
  );
  if (install.exitCode !== 0 || !existsSync(bin)) {
    return {
      problem: `npm install @anthropic-ai/claude-code@${OLDER_CLI_VERSION} failed: ${install.stderr.slice(-300)}`,
    };
  }
  return { bin };
}
