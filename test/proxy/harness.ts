import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger, type LogSink } from '../../src/log.js';
import { type RunningProxy, startProxy } from '../../src/proxy/index.js';
import { type FakeUpstream, type Script, startFakeUpstream } from '../fakes/openai-upstream.js';

// Real parts wired for tests: the fake upstream (an external service), the real proxy, the real CLI.

export const CLAUDE_BIN = resolve(import.meta.dirname, '../../node_modules/.bin/claude');

export function proxyConfig(upstreamUrl: string, env: Record<string, string> = {}): Config['proxy'] {
  return loadConfig(
    {
      PORT: '0',
      PROVIDER_TYPE: 'openai',
      OPENAI_BASE_URL: upstreamUrl,
      OPENAI_API_KEY: 'sk-test-upstream',
      MODEL: 'fake-model',
      ...env,
    },
    tmpdir(),
  ).proxy;
}

export interface Rig {
  upstream: FakeUpstream;
  proxy: RunningProxy;
  logs: string[];
  close(): Promise<void>;
}

export async function startRig(
  script: Script,
  env: Record<string, string> = {},
  options: Pick<Parameters<typeof startProxy>[0], 'pingIntervalMs' | 'clock' | 'onProviderWait'> = {},
): Promise<Rig> {
  const upstream = await startFakeUpstream(script);
  const logs: string[] = [];
  const sink: LogSink = { write: (line) => logs.push(line) };
  const proxy = await startProxy({
    config: proxyConfig(upstream.url, env),
    logger: createLogger('info', [], sink),
    ...options,
  });
  return {
    upstream,
    proxy,
    logs,
    close: async () => {
      await proxy.close();
      await upstream.close();
    },
  };
}

export interface CliRun {
  exitCode: number | undefined;
  lines: Array<Record<string, unknown>>;
  /** The `result` text of the last result line. */
  result: string;
  isError: boolean;
  stderr: string;
  cwd: string;
}

/** Runs `claude -p <prompt> --output-format stream-json --verbose` against the proxy in a temp HOME and cwd. */
export async function runClaude(
  proxyUrl: string,
  prompt: string,
  extraEnv: Record<string, string> = {},
  bin = CLAUDE_BIN,
): Promise<CliRun> {
  const home = await mkdtemp(join(tmpdir(), 'relay-home-'));
  const cwd = await mkdtemp(join(tmpdir(), 'relay-cwd-'));
  try {
    const child = await execa(
      bin,
      ['-p', prompt, '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'],
      {
        cwd,
        reject: false,
        timeout: 90_000,
        extendEnv: false,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          ANTHROPIC_BASE_URL: proxyUrl,
          ANTHROPIC_AUTH_TOKEN: 'test',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          IS_SANDBOX: '1',
          ...extraEnv,
        },
        stdin: 'ignore',
      },
    );
    const lines = String(child.stdout)
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const results = lines.filter((line) => line.type === 'result');
    const last = results.at(-1);
    return {
      exitCode: child.exitCode,
      lines,
      result: typeof last?.result === 'string' ? last.result : '',
      isError: last?.is_error === true,
      stderr: String(child.stderr),
      cwd,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
