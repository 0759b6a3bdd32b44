import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll } from 'vitest';
import { CLAUDE_BIN } from './harness.js';

// Claude Code versions besides the bundled one, installed on first use into node_modules/.cache/claude-code-<version>
// from the npm registry (or npm's own cache, offline after the first time): the project's dependencies hold one CLI.

/** The project's own dependency, node_modules/.bin/claude. */
export const BUNDLED_CLI_VERSION = '2.1.330';
/** The older CLI the README supports. */
export const OLDER_CLI_VERSION = '2.1.197';
/** The newest CLI published when it was added; like the bundled 2.1.330 it says node>=22 and runs on Node 20. */
export const NEWER_CLI_VERSION = '2.1.332';

export type InstalledCli = { bin: string } | { problem: string };

/** The binary of `version`, installing it first if needed; the problem instead when it cannot be installed here. */
export async function installedCli(version: string): Promise<InstalledCli> {
  const dir = resolve(import.meta.dirname, `../../node_modules/.cache/claude-code-${version}`);
  const bin = join(dir, 'node_modules/.bin/claude');
  // Written after a whole install: a bin left by one that was cut off (a killed run) is not taken for one.
  const done = join(dir, '.installed');
  if (existsSync(done) && existsSync(bin)) return { bin };
  mkdirSync(dir, { recursive: true });
  // Its postinstall links the platform binary; strict-allow-scripts (this project's .npmrc) reaches npm here too.
  const manifest = {
    name: `claude-cli-${version.replaceAll('.', '-')}`,
    private: true,
    allowScripts: { '@anthropic-ai/claude-code': true },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest)}\n`);
  const install = await execa(
    'npm',
    ['install', '--no-audit', '--no-fund', '--save-exact', `@anthropic-ai/claude-code@${version}`],
    { cwd: dir, reject: false, timeout: 240_000 },
  );
  if (install.exitCode !== 0 || !existsSync(bin)) {
    return {
      problem: `npm install @anthropic-ai/claude-code@${version} failed: ${install.stderr.slice(-300)}`,
    };
  }
  writeFileSync(done, `${version}\n`);
  return { bin };
}

/** A CLI the real-CLI proxy tests run on; `bin()` is null when it could not be installed here (the test skips). */
export interface TestedCli {
  name: string;
  bin(): string | null;
}

/**
 * The bundled CLI, then each of `versions`, installed in a `beforeAll` of the calling test file. A version that
 * cannot be installed skips its tests; cli-versions.e2e.test.ts fails CI (`CI=true`) for it instead.
 */
export function testedClis(versions: readonly string[]): TestedCli[] {
  const installed = new Map<string, InstalledCli>();
  beforeAll(async () => {
    for (const version of versions) installed.set(version, await installedCli(version));
  }, 300_000);
  return [
    { name: `bundled ${BUNDLED_CLI_VERSION}`, bin: () => CLAUDE_BIN },
    ...versions.map((version) => ({
      name: version,
      bin: () => {
        const cli = installed.get(version);
        return cli !== undefined && 'bin' in cli ? cli.bin : null;
      },
    })),
  ];
}
