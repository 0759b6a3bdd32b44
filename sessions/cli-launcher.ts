import type { SessionsConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import {
  buildCliArgs,
  buildCliEnv,
  type PermissionMode,
  promptLine,
  resolveBundledClaude,
} from './cli-command.js';
import { checkCliVersion, TESTED_CLI_VERSIONS } from './cli-version.js';
import { NODE_ID_ENV } from './leftover-processes.js';
import { type NodeRun, type NodeRunOptions, startNodeRun } from './node-run.js';
import type { CliCheck, NodeSnapshot } from './types.js';

// The Claude CLI as this engine is configured: which binary, with which environment and permission mode, checked
// once at start, and one run per node (node-run.ts) with the node's prompt, directory and parent session.

export interface CliLauncherOptions {
  config: SessionsConfig;
  /**
   * The embedded proxy. With `nodeHeader`, each CLI sends that header naming its node, so the proxy can say
   * which session a provider wait holds (`reportProviderWait`).
   */
  proxy: { url: string; authToken: string | undefined; nodeHeader?: string } | null;
  logger: Logger;
  /** Extra environment for CLI children (tests: a temporary HOME). */
  childEnv?: Record<string, string>;
  /** The relay's own environment; only an allow-list (PATH, HOME, LANG …) is passed on. */
  inheritedEnv?: Readonly<Record<string, string | undefined>>;
  /** Wait after SIGINT before SIGTERM, and again before SIGKILL (default 2 s). */
  stopGraceMs?: number;
  /** `CLAUDE_PERMISSIONS`: `skip` (default) runs every tool call; `ask` asks the user in chat first. */
  permissions?: PermissionMode;
  /** `PERMISSION_TIMEOUT`: an unanswered prompt is denied after this long (default 5 min). */
  permissionTimeoutMs?: number;
}

export type RunHooks = Pick<NodeRunOptions, 'emit' | 'onSessionId' | 'onSpawn'>;

export interface CliLauncher {
  /** Runs `--version` and logs what it found: a CLI that cannot run is an error, an untested version a warning. */
  check(): Promise<CliCheck>;
  /** Starts the node's CLI: a fork of `node.forkOf` when set, else a fresh session. */
  start(node: NodeSnapshot, hooks: RunHooks): NodeRun;
}

export function createCliLauncher(options: CliLauncherOptions): CliLauncher {
  const { config, logger } = options;
  const bin = config.claudeBin ?? resolveBundledClaude();
  const permissions = options.permissions ?? config.permissions ?? 'skip';
  const env = buildCliEnv({
    permissions,
    inherited: options.inheritedEnv ?? {},
    backend: config.backend,
    proxy: options.proxy,
    uid: process.getuid?.() ?? -1,
    extra: options.childEnv ?? {},
  });
  const nodeHeader = config.backend === 'proxy' ? options.proxy?.nodeHeader : undefined;
  const nodeHeaderEnv = (nodeId: string): Record<string, string> =>
    nodeHeader === undefined ? {} : { ANTHROPIC_CUSTOM_HEADERS: `${nodeHeader}: ${nodeId}` };
  /** CLI event types already warned about: shared by every run, so each is logged once per engine. */
  const unknownTypes = new Set<string>();

  return {
    async check() {
      const cli = await checkCliVersion(bin, env);
      logCheck(cli, bin, logger);
      return cli;
    },
    start(node, hooks) {
      return startNodeRun({
        nodeId: node.id,
        bin,
        args: buildCliArgs({
          addDirs: config.allowedDirs,
          resumeSessionId: node.forkOf ?? null,
          permissions,
          ...(node.run === undefined ? {} : { run: node.run }),
        }),
        cwd: node.workingDirectory,
        // Marks the CLI and every tool it starts as this node's, so a restart can recognise them
        // (leftover-processes.ts).
        env: { ...env, [NODE_ID_ENV]: node.id, ...nodeHeaderEnv(node.id) },
        stdin: promptLine(node.prompt, node.run?.images),
        permissions,
        permissionTimeoutMs: options.permissionTimeoutMs ?? config.permissionTimeoutMs ?? 300_000,
        idleTimeoutMs: config.idleTimeoutMs,
        graceMs: options.stopGraceMs ?? 2000,
        logger,
        unknownTypes,
        ...hooks,
      });
    },
  };
}

function logCheck(cli: CliCheck, bin: string, logger: Logger): void {
  if (!cli.ok) {
    logger.error(
      { bin },
      `${cli.problem}: every task will fail until CLAUDE_BIN names a Claude Code CLI (or is unset, for the bundled one)`,
    );
  } else if (cli.tested) logger.info({ bin, version: cli.version }, 'Claude Code CLI found');
  else {
    logger.warn(
      { bin, version: cli.version, tested: TESTED_CLI_VERSIONS },
      `Claude Code ${cli.version} has not been tested with this relay (tested: ${TESTED_CLI_VERSIONS.join(', ')}); if tasks misbehave, unset CLAUDE_BIN to use the bundled one`,
    );
  }
}
