import { describe, expect, it } from 'vitest';
import { formatStats } from '../../platforms/commands/stats-text.js';
import { describeSandbox, type SandboxStatus } from '../../sessions/index.js';
import { resolveSandbox, sandboxSettings } from '../../sessions/sandbox.js';
import { ConfigError, loadConfig } from '../../src/config.js';

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
