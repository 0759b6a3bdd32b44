import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatStats } from '../../platforms/commands/stats-text.js';
import { createCliLauncher } from '../../sessions/cli-launcher.js';
import {
  type ChatPermissionMode,
  describeSandbox,
  type NodeSnapshot,
  type SandboxStatus,
} from '../../sessions/index.js';
import { resolveSandbox, sandboxSettings } from '../../sessions/sandbox.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

// CLAUDE_SANDBOX as configured and as reported; what the sandbox enforces is proven with the real CLI in
// sandbox.e2e.test.ts.

const noBwrap = () => 'bubblewrap (bwrap) is not installed';
const works = () => null;

describe('CLAUDE_SANDBOX', () => {
  it('unset means auto; on, off and SANDBOX_ALLOW_HOSTS are read; anything else is refused by name', () => {
    expect(loadConfig({}).sessions.sandbox).toEqual({ mode: 'auto', allowHosts: [] });
    expect(
      loadConfig({ CLAUDE_SANDBOX: 'OFF', SANDBOX_ALLOW_HOSTS: 'pypi.org, *.npmjs.org' }).sessions.sandbox,
    ).toEqual({ mode: 'off', allowHosts: ['pypi.org', '*.npmjs.org'] });
    expect(() => loadConfig({ CLAUDE_SANDBOX: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLAUDE_SANDBOX: 'maybe' })).toThrow(/CLAUDE_SANDBOX.*auto, on, off.*maybe/);
  });

  it('auto turns it on where bubblewrap starts and off, saying why, where it does not', () => {
    expect(resolveSandbox({ mode: 'auto', allowHosts: ['pypi.org'] }, works)).toEqual({
      state: 'on',
      allowHosts: ['pypi.org'],
    });
    const off = resolveSandbox({ mode: 'auto', allowHosts: [] }, noBwrap);
    expect(off).toEqual({ state: 'off', reason: 'bubblewrap (bwrap) is not installed' });
    expect(describeSandbox(off)).toBe(
      'off (bubblewrap (bwrap) is not installed): commands the model runs can write anywhere and reach any host',
    );
  });

  it('off is never probed; on without bubblewrap is broken, not quietly off', () => {
    const probe = () => {
      throw new Error('probed');
    };
    expect(resolveSandbox({ mode: 'off', allowHosts: [] }, probe)).toEqual({
      state: 'off',
      reason: 'CLAUDE_SANDBOX=off',
    });
    expect(resolveSandbox({ mode: 'on', allowHosts: [] }, noBwrap).state).toBe('broken');
  });

  it('/stats has a sandbox line', () => {
    const engine = {
      running: 0,
      queued: 0,
      totalNodes: 0,
      trees: 0,
      byState: { queued: 0, running: 0, done: 0, error: 0, stopped: 0, interrupted: 0 },
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
      costUsd: 0,
      errors: 0,
      uptimeMs: 0,
      maxSessions: 10,
    };
    const on: SandboxStatus = { state: 'on', allowHosts: ['pypi.org'] };
    expect(formatStats({ ...engine, sandbox: on }, { providers: [] })).toContain(
      '- Sandbox: on: commands write only in the session directories and reach only pypi.org',
    );
    expect(formatStats(engine, { providers: [] })).not.toContain('Sandbox');
  });

  it('the settings leave the model no way out of the sandbox; in ask mode the user still decides the rest', () => {
    const unattended = sandboxSettings({
      writableDirs: ['/srv/a'],
      allowHosts: ['pypi.org'],
      unattended: true,
    });
    expect(unattended).toEqual({
      sandbox: {
        enabled: true,
        failIfUnavailable: true,
        autoAllowBashIfSandboxed: true,
        allowUnsandboxedCommands: false,
        filesystem: { allowWrite: ['/srv/a'] },
        network: { allowedDomains: ['pypi.org'], strictAllowlist: true },
      },
      permissions: {
        allow: ['Bash', 'Read', 'Glob', 'Grep', 'Edit(//srv/a/**)', 'WebFetch(domain:pypi.org)', 'WebSearch'],
      },
    });
    const asking = sandboxSettings({ writableDirs: [], allowHosts: [], unattended: false });
    expect(asking).not.toHaveProperty('permissions');
    expect(asking).toMatchObject({
      sandbox: { autoAllowBashIfSandboxed: false, allowUnsandboxedCommands: false },
    });
  });
});

describe("the sandbox and a conversation's /mode", () => {
  const NODE: NodeSnapshot = {
    id: '0b1c2d3e-4f50-4617-8899-aabbccddeeff',
    treeId: 't',
    parentId: null,
    prompt: 'go',
    state: 'running',
    queuePosition: null,
    sessionId: null,
    workingDirectory: '/w',
    messages: [],
    createdAt: 1,
    startedAt: 2,
    finishedAt: null,
    costUsd: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
    outcome: null,
  };
  /** The arguments the launcher gives the CLI, caught by a stand-in binary that writes them down and exits. */
  async function argsFor(permissions: 'skip' | 'ask', permissionMode: ChatPermissionMode) {
    const dir = mkdtempSync(join(tmpdir(), 'mode-args-'));
    const bin = join(dir, 'claude');
    const out = join(dir, 'args.json');
    writeFileSync(
      bin,
      `#!/bin/sh\nnode -e 'require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1)))' -- "$@"\n`,
    );
    chmodSync(bin, 0o755);
    const launcher = createCliLauncher({
      config: {
        ...loadConfig({}, dir).sessions,
        claudeBin: bin,
        permissions,
        sandbox: { mode: 'on', allowHosts: [] },
      },
      proxy: null,
      logger: createLogger('silent', []),
      inheritedEnv: { PATH: process.env.PATH ?? '' },
      sandboxProbe: () => null,
    });
    const node: NodeSnapshot = { ...NODE, workingDirectory: dir, run: { permissionMode } };
    const run = launcher.start(node, { emit: () => {}, onSessionId: () => {}, onSpawn: () => {} });
    await run.ended;
    const args: string[] = JSON.parse(readFileSync(out, 'utf8'));
    const settings = JSON.parse(args[args.indexOf('--settings') + 1] ?? '{}');
    return { args, settings };
  }

  it('only a session that asks nobody gets the allow rules: /mode default on a skip relay asks, /mode bypass on an ask relay does not', async () => {
    const asks = await argsFor('skip', 'default');
    expect(asks.settings.permissions).toBeUndefined();
    expect(asks.settings.sandbox.autoAllowBashIfSandboxed).toBe(false);
    const bypass = await argsFor('ask', 'bypass');
    expect(bypass.settings.permissions.allow).toContain('Bash');
    expect(bypass.settings.sandbox.autoAllowBashIfSandboxed).toBe(true);
    expect(bypass.args).not.toContain('--dangerously-skip-permissions');
    const plan = await argsFor('skip', 'plan');
    expect(plan.settings.permissions).toBeUndefined();
  });
});
