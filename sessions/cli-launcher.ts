import type { SessionsConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import {
  buildCliArgs,
  buildCliEnv,
  type PermissionMode,
  promptLine,
  resolveBundledClaude,
} from './cli-command.js';
import { type CliRun, startCliRun } from './cli-runner.js';
import { checkCliVersion, TESTED_CLI_VERSIONS } from './cli-version.js';
import { encodeInitialize, encodeReadyProbe } from './control-protocol.js';
import { NODE_ID_ENV } from './leftover-processes.js';
import { type NodeRun, type NodeRunOptions, startNodeRun } from './node-run.js';
import { createPrestartPool, type Prestarted } from './prestart.js';
import {
  describeSandbox,
  probeBubblewrap,
  resolveSandbox,
  type SandboxProbe,
  type SandboxStatus,
  sandboxSettings,
} from './sandbox.js';
import { cliConfigDir, reachSession } from './session-files.js';
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
  /**
   * `GATEWAY_PRESTART`: keep `count` CLI processes started and waiting for new conversations whose first message
   * comes from `platform`, per launch shape (model tier, directory) in use.
   */
  prestart?: { count: number; platform: string };
  /** Whether the sandbox can start here (default: bubblewrap on the children's PATH); tests pass a failing one. */
  sandboxProbe?: SandboxProbe;
}

export type RunHooks = Pick<NodeRunOptions, 'emit' | 'onSessionId'> & {
  /** `tag`: the node id a pre-started process carries in its environment (its tools inherit it). */
  onSpawn(pid: number, tag?: string): void;
};

export interface CliLauncher {
  /** Runs `--version` and logs what it found: a CLI that cannot run is an error, an untested version a warning. */
  check(): Promise<CliCheck>;
  /** Starts the node's CLI: a fork of `node.forkOf` when set, else a fresh session. */
  start(node: NodeSnapshot, hooks: RunHooks): NodeRun;
  /** The node a process's id tag names: a pre-started process carries its own tag, not its node's id. */
  nodeIdOf(tag: string): string;
  /** Pre-started processes waiting now. */
  prestarted(): number;
  /** Ends the pre-started processes. */
  close(): void;
  /** `CLAUDE_SANDBOX` as it applies here (bubblewrap is probed once, on first use). */
  sandbox(): SandboxStatus;
}

export function createCliLauncher(options: CliLauncherOptions): CliLauncher {
  const { config, logger } = options;
  const bin = config.claudeBin ?? resolveBundledClaude();
  const permissions = options.permissions ?? config.permissions ?? 'skip';
  const envFor = (mode: PermissionMode): Record<string, string> =>
    buildCliEnv({
      permissions: mode,
      inherited: options.inheritedEnv ?? {},
      backend: config.backend,
      proxy: options.proxy,
      uid: process.getuid?.() ?? -1,
      extra: options.childEnv ?? {},
    });
  const envs: Record<PermissionMode, Record<string, string>> = { skip: envFor('skip'), ask: envFor('ask') };
  const env = envs[permissions];
  /** A conversation's /mode overrides CLAUDE_PERMISSIONS: `bypass` asks nothing, every other mode asks in chat. */
  const permissionsOf = (node: NodeSnapshot): PermissionMode => {
    const mode = node.run?.permissionMode;
    return mode === undefined ? permissions : mode === 'bypass' ? 'skip' : 'ask';
  };
  /** An API request (a priority below chat) has nobody to answer a question: its model is offered none. */
  const questionsOf = (node: NodeSnapshot): boolean =>
    node.priority === undefined || node.priority === 'chat';
  const nodeHeader = config.backend === 'proxy' ? options.proxy?.nodeHeader : undefined;
  const nodeHeaderEnv = (nodeId: string): Record<string, string> =>
    nodeHeader === undefined ? {} : { ANTHROPIC_CUSTOM_HEADERS: `${nodeHeader}: ${nodeId}` };
  /** CLI event types already warned about: shared by every run, so each is logged once per engine. */
  const unknownTypes = new Set<string>();
  const { status: sandboxStatus, args: sandboxArgs } = createSandboxing(
    config,
    options.sandboxProbe ?? probeBubblewrap(env.PATH),
  );

  /** Tags of pre-started processes now working for a node. */
  const takenBy = new Map<string, string>();
  const idEnv = (id: string, mode: PermissionMode = permissions): Record<string, string> => ({
    ...envs[mode],
    [NODE_ID_ENV]: id,
    ...nodeHeaderEnv(id),
  });
  const idleTimeoutMs = config.idleTimeoutMs;
  const graceMs = options.stopGraceMs ?? 2000;

  const prestart = createPrestarts(options.prestart, logger, (args, cwd, tag, onReady) => {
    const probe = `ready_${tag}`;
    const run = startCliRun({
      bin,
      args,
      cwd,
      env: idEnv(tag),
      stdin: null,
      idleTimeoutMs,
      graceMs,
      // Until a task takes it the process prints only the probe's reply (the task's own lines go to its run).
      onLine: (line) => {
        if (line.includes(probe)) onReady();
      },
    });
    run.send(encodeReadyProbe(probe));
    return run;
  });

  return {
    async check() {
      const cli = await checkCliVersion(bin, env);
      logCheck(cli, bin, logger);
      logSandbox(sandboxStatus(), logger);
      return cli;
    },
    sandbox: sandboxStatus,
    start(node, hooks) {
      // A fork in another directory than its parent's (its own worktree) must still find the parent's session.
      const configDir = cliConfigDir(env);
      if (node.forkOf && configDir !== null) reachSession(configDir, node.forkOf, node.workingDirectory);
      const nodePermissions = permissionsOf(node);
      const questions = questionsOf(node);
      const run = node.run ?? {};
      const isolated = isolationOf(node, config.allowedDirs);
      const argsWith = (appendSystemPrompt: string | undefined): string[] =>
        sandboxArgs(
          buildCliArgs({
            addDirs: isolated.dirs,
            resumeSessionId: node.forkOf ?? null,
            permissions: nodePermissions,
            questions,
            run: { ...run, ...(appendSystemPrompt === undefined ? {} : { appendSystemPrompt }) },
          }),
          nodePermissions,
          isolated.dirs,
        );
      // A pre-started process has every argument but the system prompt, which it is given by initialize.
      const { appendSystemPrompt, ...shape } = run;
      // A /mode that changes how it asks needs its own environment: no process pre-started for the default.
      const prestarted =
        nodePermissions === permissions
          ? prestart.take(
              node,
              sandboxArgs(
                buildCliArgs({
                  addDirs: config.allowedDirs,
                  resumeSessionId: null,
                  permissions,
                  questions,
                  run: shape,
                }),
                permissions,
              ),
            )
          : undefined;
      // In the message, not the system prompt: a resumed session keeps the system prompt it began with, which
      // names the main worktree as its working directory.
      const words = isolated.note === undefined ? node.prompt : `${isolated.note}\n\n${node.prompt}`;
      const prompt = promptLine(words, run.images);
      const nodeRun = startNodeRun({
        nodeId: node.id,
        bin,
        args: argsWith(appendSystemPrompt),
        cwd: node.workingDirectory,
        // Marks the CLI and every tool it starts as this node's, so a restart can recognise them
        // (leftover-processes.ts).
        env: idEnv(node.id, nodePermissions),
        stdin: prompt,
        permissions: nodePermissions,
        questions,
        permissionTimeoutMs: options.permissionTimeoutMs ?? config.permissionTimeoutMs ?? 300_000,
        idleTimeoutMs,
        graceMs,
        logger,
        unknownTypes,
        emit: hooks.emit,
        onSessionId: hooks.onSessionId,
        onSpawn: (pid, adopted) => hooks.onSpawn(pid, adopted ? prestarted?.tag : undefined),
        ...(prestarted === undefined
          ? {}
          : {
              prestarted: {
                run: prestarted.run,
                stdin:
                  (appendSystemPrompt ? encodeInitialize(`init_${node.id}`, appendSystemPrompt) : '') +
                  prompt,
              },
            }),
      });
      if (prestarted !== undefined && nodeRun.run === prestarted.run) {
        // It carries its own tag, not this node's id: provider waits it reports are this node's.
        takenBy.set(prestarted.tag, node.id);
        void nodeRun.ended.then(() => takenBy.delete(prestarted.tag));
      } else prestarted?.run.kill(); // it could not take the task (it had just exited): a new CLI did
      return nodeRun;
    },
    nodeIdOf: (tag) => takenBy.get(tag) ?? tag,
    prestarted: () => prestart.ready(),
    close: () => prestart.close(),
  };
}

/** `CLAUDE_SANDBOX` for this launcher: its status (bubblewrap probed once, on first use), and each run's arguments. */
function createSandboxing(
  config: SessionsConfig,
  probe: SandboxProbe,
): {
  status(): SandboxStatus;
  args(args: string[], mode: PermissionMode, writableDirs?: string[]): string[];
} {
  let sandbox: SandboxStatus | undefined;
  const status = (): SandboxStatus => {
    sandbox ??= resolveSandbox(config.sandbox ?? { mode: 'off', allowHosts: [] }, probe);
    return sandbox;
  };
  return {
    status,
    /**
     * A broken sandbox still gets its settings: the CLI then refuses to run commands uncontained. In skip mode the
     * sandbox replaces --dangerously-skip-permissions (sandboxSettings says why). `mode`: how this session asks
     * (CLAUDE_PERMISSIONS, or its conversation's /mode): only one that asks nobody gets the allow rules.
     */
    args(args, mode, writableDirs = config.allowedDirs) {
      if (status().state === 'off') return args;
      const settings = sandboxSettings({
        writableDirs,
        allowHosts: config.sandbox?.allowHosts ?? [],
        unattended: mode === 'skip',
      });
      const contained = args.map((arg) =>
        arg === '--dangerously-skip-permissions' ? SANDBOXED_SKIP : [arg],
      );
      return [...contained.flat(), '--settings', JSON.stringify(settings)];
    },
  };
}

/**
 * `GATEWAY_PRESTART`: new conversations from the pre-start platform take a ready process of their launch shape
 * (arguments and directory) if there is one, and keep that shape warm; `spawn` starts one waiting process.
 */
function createPrestarts(
  config: CliLauncherOptions['prestart'],
  logger: Logger,
  spawn: (args: string[], cwd: string, tag: string, onReady: () => void) => CliRun,
): { take(node: NodeSnapshot, args: string[]): Prestarted | undefined; ready(): number; close(): void } {
  const pool =
    config !== undefined && config.count > 0
      ? createPrestartPool({
          count: config.count,
          onGiveUp: (reason) => logger.warn({ reason }, 'pre-started CLI processes given up for this shape'),
        })
      : null;
  return {
    take(node, args) {
      if (pool === null || node.forkOf !== null) return undefined;
      if (node.messages[0]?.ref.platform !== config?.platform) return undefined;
      const key = JSON.stringify([args, node.workingDirectory]);
      const taken = pool.take(key);
      pool.want(key, (tag, onReady) => spawn(args, node.workingDirectory, tag, onReady));
      return taken;
    },
    ready: () => pool?.ready() ?? 0,
    close: () => pool?.close(),
  };
}

/**
 * A fork in its own worktree resumes a conversation whose earlier turns (and the system prompt it began with) name
 * the project's main worktree: it is told where it works now, and the main worktree (an ALLOWED_DIR that is the project, or inside it) is no
 * longer an extra directory of its, so its edits land in its branch. Other nodes: ALLOWED_DIR as configured.
 */
function isolationOf(node: NodeSnapshot, allowedDirs: string[]): { dirs: string[]; note?: string } {
  const worktree = node.worktree;
  if (worktree === undefined || worktree.removedAt !== undefined) return { dirs: allowedDirs };
  const { repo, path } = worktree;
  const dirs = allowedDirs.filter((dir) => dir !== repo && !dir.startsWith(`${repo}/`));
  // A Claude Code command (`/compact`, `/review` …) must stay the message's first word.
  if (node.prompt.trimStart().startsWith('/')) return { dirs };
  const before = [...new Set([repo, worktree.from ?? repo])].join(' and ');
  return {
    dirs,
    note:
      `(Relay: this branch of the conversation now works in its own git worktree, ${path}: a copy of the project ` +
      `as the earlier turns left it. Files they named under ${before} are here under ${path}; read and change ` +
      `them here, not there.)`,
  };
}

/**
 * Skip mode inside the sandbox: edits are accepted in the session's directories, sandboxed Bash runs without
 * asking, and anything else that would need permission (a write elsewhere, WebFetch to an unlisted host) is
 * refused, since nobody is asked in skip mode.
 */
const SANDBOXED_SKIP = ['--permission-mode', 'acceptEdits'];

function logSandbox(status: SandboxStatus, logger: Logger): void {
  const line = `Sandbox ${describeSandbox(status)}`;
  if (status.state === 'on') logger.info(line);
  else logger.warn(line);
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
