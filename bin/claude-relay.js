#!/usr/bin/env node
// `npx claude-relay` does what `npm start` does: run the compiled relay, building it first when needed. Without
// `npm start`'s --max-semi-space-size=2, though: `env -S` for a flag in this line is missing from BusyBox (Alpine),
// and V8 takes the young generation's size only at start. Set NODE_OPTIONS=--max-semi-space-size=2 for it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'main.js');
if (!existsSync(entry)) {
  const require = createRequire(import.meta.url);
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
await import(pathToFileURL(entry).href);
