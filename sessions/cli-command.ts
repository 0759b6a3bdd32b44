import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PromptImage, RunOptions } from './types.js';

// The CLI's command line, stdin and environment. Pure apart from resolving the bundled binary's path.

/**
 * `skip`: every tool call runs without asking (`--dangerously-skip-permissions`). `ask`: the CLI asks over the
 * stream-json control protocol (`--permission-prompt-tool stdio`) and the relay asks the user in chat.
 */
export type PermissionMode = 'skip' | 'ask';

export function buildCliArgs(options: {
  addDirs: string[];
  resumeSessionId: string | null;
  permissions?: PermissionMode;
  /**
   * Skip mode: someone can answer the model's questions (a chat task, not an API request). The CLI offers
   * AskUserQuestion only with a permission prompt tool, and in bypassPermissions or the
   * sandbox's acceptEdits it then asks over stdio for those alone; anything else its mode would have refused
   * reaches the relay too, which refuses it (permission-broker.ts).
   */
  questions?: boolean;
  run?: RunOptions;
}): string[] {
  const args = [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--include-partial-messages',
    '--input-format',
    'stream-json',
  ];
  if (options.permissions === 'ask') {
    const mode = options.run?.permissionMode;
    args.push(
      '--permission-prompt-tool',
      'stdio',
      '--permission-mode',
      mode && mode !== 'bypass' ? mode : 'default',
    );
  } else {
    args.push('--dangerously-skip-permissions');
    // Not EnterPlanMode: the CLI urges plan mode for most work, and a plan nobody approves in time would leave
    // the run refusing every write (plan mode is what the user picks with /mode plan, not the model's choice).
    if (options.questions === true)
      args.push('--permission-prompt-tool', 'stdio', '--disallowedTools', 'EnterPlanMode');
  }
  for (const dir of options.addDirs) args.push('--add-dir', dir);
  if (options.resumeSessionId !== null) args.push('--resume', options.resumeSessionId, '--fork-session');
  const run = options.run ?? {};
  if (run.model) args.push('--model', run.model);
  if (run.appendSystemPrompt) args.push('--append-system-prompt', run.appendSystemPrompt);
  if (run.maxTurns !== undefined) args.push('--max-turns', String(run.maxTurns));
  return args;
}

/** The prompt as one stream-json user message line (the Agent SDK's form), images before the text. */
export function promptLine(prompt: string, images: readonly PromptImage[] = []): string {
  const pictures = images.map((image) => ({
    type: 'image',
    source: { type: 'base64', media_type: image.mediaType, data: image.data },
  }));
  const message = {
    type: 'user',
    session_id: '',
    message: { role: 'user', content: [...pictures, { type: 'text', text: prompt }] },
    parent_tool_use_id: null,
  };
  return `${JSON.stringify(message)}\n`;
}

/** What a child may inherit from the relay's own environment. Keys and tokens are never on this list. */
const INHERITED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TERM',
  'TZ',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
];

/** With `CLAUDE_BACKEND=anthropic` the CLI uses its own login, so these may pass as well. */
const INHERITED_ANTHROPIC = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CONFIG_DIR',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
];

/** Used when no proxy token is configured: the CLI needs some credential to send, the proxy ignores it. */
const PLACEHOLDER_TOKEN = 'relay-no-auth';

export interface CliEnvOptions {
  /** The relay's environment (only the allow-list is read); defaults come from `os` when absent. */
  inherited: Readonly<Record<string, string | undefined>>;
  backend: 'proxy' | 'anthropic';
  proxy: { url: string; authToken: string | undefined } | null;
  uid: number;
  /** Extra variables (tests: a temporary HOME). Cannot override the proxy settings below. */
  extra: Readonly<Record<string, string>>;
  permissions?: PermissionMode;
}

export function buildCliEnv(options: CliEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: homedir(),
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    TERM: 'dumb',
  };
  const names = options.backend === 'anthropic' ? [...INHERITED, ...INHERITED_ANTHROPIC] : INHERITED;
  for (const name of names) {
    const value = options.inherited[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  Object.assign(env, options.extra);
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  // As root the CLI refuses --dangerously-skip-permissions unless it is told it runs in a sandbox. Asking
  // needs no such claim, so none is made.
  if (options.permissions === 'ask') delete env.IS_SANDBOX;
  else if (options.uid === 0) env.IS_SANDBOX = '1';
  if (options.backend === 'proxy' && options.proxy !== null) {
    env.ANTHROPIC_BASE_URL = options.proxy.url;
    env.ANTHROPIC_AUTH_TOKEN = options.proxy.authToken ?? PLACEHOLDER_TOKEN;
    delete env.ANTHROPIC_API_KEY;
    delete env.CLAUDE_CODE_OAUTH_TOKEN;
  }
  return env;
}

/**
 * The `claude` binary of our own dependency, found from this package's location (not the working directory):
 * the dependency's package.json names its `bin`.
 */
export function resolveBundledClaude(): string {
  const require = createRequire(import.meta.url);
  try {
    const manifestPath = require.resolve('@anthropic-ai/claude-code/package.json');
    const manifest: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const bin =
      typeof manifest === 'object' && manifest !== null && 'bin' in manifest ? manifest.bin : undefined;
    const relative =
      typeof bin === 'string'
        ? bin
        : typeof bin === 'object' && bin !== null && 'claude' in bin && typeof bin.claude === 'string'
          ? bin.claude
          : null;
    if (relative !== null) return join(dirname(manifestPath), relative);
  } catch {
    // Fall through to the .bin link next to our own node_modules; a missing binary is reported at spawn.
  }
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', '.bin', 'claude');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return 'claude';
  }
}
