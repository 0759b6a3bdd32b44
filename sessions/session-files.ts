import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// The CLI keeps each session in `<config dir>/projects/<cwd, every non-alphanumeric character turned into ->/`
// `<session>.jsonl`, and `--resume` of 2.1.197 looks only in the folder of its own working directory (2.1.330
// looks further: FINDINGS.md A12). A fork that runs in another directory (its own worktree, another project)
// therefore gets a copy of its parent's session file in its own folder first; the copy is harmless for a CLI
// that would have found it anyway, and the fork writes its new session beside it (`--fork-session`).

/** The CLI's folder name for a working directory. */
export function sessionFolderName(cwd: string): string {
  return cwd.replace(/[^a-zA-Z0-9]/g, '-');
}

/** `CLAUDE_CONFIG_DIR`, else `$HOME/.claude`, as the CLI child will see them. */
export function cliConfigDir(env: Readonly<Record<string, string | undefined>>): string | null {
  if (env.CLAUDE_CONFIG_DIR) return env.CLAUDE_CONFIG_DIR;
  return env.HOME ? join(env.HOME, '.claude') : null;
}

/**
 * Makes the session `sessionId` reachable from `cwd`: copies its file from whichever project folder holds it
 * into `cwd`'s folder, unless it is there already. False when no such session file exists.
 */
export function reachSession(configDir: string, sessionId: string, cwd: string): boolean {
  const projects = join(configDir, 'projects');
  const file = `${sessionId}.jsonl`;
  const target = join(projects, sessionFolderName(cwd));
  if (existsSync(join(target, file))) return true;
  let folders: string[];
  try {
    folders = readdirSync(projects);
  } catch {
    return false;
  }
  const source = folders.find((folder) => existsSync(join(projects, folder, file)));
  if (source === undefined) return false;
  try {
    mkdirSync(target, { recursive: true });
    copyFileSync(join(projects, source, file), join(target, file));
    return true;
  } catch {
    return false; // the CLI then says it found no such session, and the run ends with that
  }
}
