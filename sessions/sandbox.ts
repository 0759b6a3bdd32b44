import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SandboxConfig } from '../src/config.js';

// CLAUDE_SANDBOX: the Claude Code CLI's own sandbox (settings `sandbox`, bubblewrap and socat on Linux) around the
// commands a session runs. Bash runs in a mount namespace where only the session's directories are writable and a
// network namespace whose only way out is the CLI's filtering proxy, which lets through SANDBOX_ALLOW_HOSTS only.

/** What the relay tells the user at start and in /stats. */
export type SandboxStatus =
  | { state: 'on'; allowHosts: string[] }
  | { state: 'off'; reason: string }
  /** Asked for (`CLAUDE_SANDBOX=on`) but it cannot start: every task fails until that is fixed. */
  | { state: 'broken'; reason: string };

/** Why the sandbox cannot start here, or null when it can. */
export type SandboxProbe = () => string | null;

/**
 * Looks for the two programs the CLI's Linux sandbox needs on PATH, then starts bubblewrap once with the
 * namespaces the CLI asks for: a container that refuses them fails here, not in the middle of a task.
 */
export function probeBubblewrap(path: string | undefined): SandboxProbe {
  return () => {
    if (process.platform !== 'linux')
      return `the sandbox is wired for Linux only (this is ${process.platform})`;
    const bwrap = onPath('bwrap', path);
    if (bwrap === null) return 'bubblewrap (bwrap) is not installed';
    if (onPath('socat', path) === null)
      return 'socat is not installed (the sandbox needs it for its network)';
    const run = spawnSync(
      bwrap,
      ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-net', '--unshare-pid', 'true'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    if (run.error !== undefined) return `bubblewrap did not start: ${run.error.message}`;
    if (run.status !== 0) {
      const said = run.stderr.trim().split('\n').at(-1) ?? '';
      return `bubblewrap cannot create its namespaces here (exit ${run.status}${said === '' ? '' : `: ${said}`})`;
    }
    return null;
  };
}

function onPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

export function resolveSandbox(config: SandboxConfig, probe: SandboxProbe): SandboxStatus {
  if (config.mode === 'off') return { state: 'off', reason: 'CLAUDE_SANDBOX=off' };
  const problem = probe();
  if (problem === null) return { state: 'on', allowHosts: config.allowHosts };
  return config.mode === 'on' ? { state: 'broken', reason: problem } : { state: 'off', reason: problem };
}

/**
 * The CLI's `--settings` for a sandboxed session. The session's working directory is writable by the CLI's own
 * rule; `writableDirs` (ALLOWED_DIR) are added. `failIfUnavailable`: a CLI that cannot build the sandbox exits
 * instead of running the command uncontained; `allowUnsandboxedCommands: false`: the model cannot opt out.
 * `unattended` (skip mode, where the CLI runs in acceptEdits): sandboxed Bash runs without asking, and the
 * file tools and WebFetch, which run inside the CLI and outside bubblewrap, are allowed by rule only in the same
 * directories and to the same hosts; whatever else would need permission is refused, as nobody is asked. In ask
 * mode the user decides those, as without the sandbox.
 */
export function sandboxSettings(options: {
  writableDirs: string[];
  allowHosts: string[];
  unattended: boolean;
}): object {
  const sandbox = {
    enabled: true,
    failIfUnavailable: true,
    autoAllowBashIfSandboxed: options.unattended,
    allowUnsandboxedCommands: false,
    filesystem: { allowWrite: options.writableDirs },
    network: { allowedDomains: options.allowHosts, strictAllowlist: true },
  };
  if (!options.unattended) return { sandbox };
  return {
    sandbox,
    permissions: {
      allow: [
        // Every command runs in the sandbox (allowUnsandboxedCommands: false), as in skip mode without it.
        'Bash',
        // Reading is not confined (sandboxed Bash reads the whole machine too); writing is.
        'Read',
        'Glob',
        'Grep',
        ...options.writableDirs.map((dir) => `Edit(/${dir}/**)`),
        ...options.allowHosts.map((host) => `WebFetch(domain:${host})`),
        // Answered by the provider through the proxy, not fetched from this machine.
        'WebSearch',
      ],
    },
  };
}

/** The start-up line (and the /stats line) for a status. */
export function describeSandbox(status: SandboxStatus): string {
  switch (status.state) {
    case 'on':
      return status.allowHosts.length === 0
        ? 'on: commands write only in the session directories and reach no network'
        : `on: commands write only in the session directories and reach only ${status.allowHosts.join(', ')}`;
    case 'off':
      return `off (${status.reason}): commands the model runs can write anywhere and reach any host`;
    case 'broken':
      return `CLAUDE_SANDBOX=on but the sandbox cannot start (${status.reason}): every task fails until it can, or CLAUDE_SANDBOX=off`;
  }
}
