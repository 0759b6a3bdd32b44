import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * Reads `.env` from `dir` (if present) and overlays the real environment on it: the real environment wins.
 * A missing file is not an error; an unreadable one is.
 */
export function readEnvironment(dir: string, realEnv: NodeJS.ProcessEnv): Record<string, string | undefined> {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnv(readFileSync(`${dir}/.env`, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fromFile, ...realEnv };
}
