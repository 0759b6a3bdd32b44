import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Data flows one way: chat → sessions → CLI → proxy → provider. This test holds the code to that: each module
// may import only what the table below allows, and other modules only through their public entry files.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Module of a file: the first folder level that owns a concern. */
function moduleOf(file: string): string {
  const parts = relative(root, file).split('/');
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  if (parts[0] === 'src') return `src/${parts[1]?.replace(/\.ts$/, '')}`;
  if (parts[0] === 'platforms' && parts.length > 2) return `platforms/${parts[1]}`;
  return parts[0] ?? '';
}

/** A chat platform's folder (platforms/<name>/): the platforms' contract, render and outbox; never another platform. */
const platformFolder = {
  may: ['platforms', 'platforms/render', 'platforms/outbox', 'platforms/commands', 'src/config'],
  reason:
    'one chat platform plugs in through the contract files; the registry in platforms/index.ts lists it',
};

/** Which modules each module may import (besides itself), and why. */
const allowed: Record<string, { may: string[]; reason: string }> = {
  'src/main': { may: ['*'], reason: 'the composition root wires every part together' },
  'src/common': { may: [], reason: 'the shared helpers every module may use: a leaf' },
  'src/config': { may: ['src/providers'], reason: 'reads the environment, per provider from the table' },
  'src/env-file': { may: [], reason: 'reads .env only' },
  'src/log': { may: [], reason: 'logging is a leaf' },
  'src/providers': { may: [], reason: 'the table of providers: a leaf' },
  'src/gateway': {
    may: ['sessions', 'src/config', 'src/log'],
    reason: 'the API gateway drives the session engine for HTTP clients, as the platforms do for chats',
  },
  'src/proxy': {
    may: ['src/config', 'src/log', 'src/providers'],
    reason: 'the proxy knows nothing of chats or sessions',
  },
  'src/voice': {
    may: ['src/config', 'src/log'],
    reason: 'voice is an edge adapter behind the Transcriber port',
  },
  sessions: {
    may: ['src/config', 'src/log'],
    reason: 'sessions talk to the proxy by URL only, never by import',
  },
  platforms: {
    may: [
      'sessions',
      'src/config',
      'src/log',
      'platforms/render',
      'platforms/outbox',
      'platforms/discord',
      'platforms/telegram',
      'platforms/web',
      'platforms/commands',
    ],
    reason:
      'platforms drive the session engine; voice and proxy arrive as contracts of src/common, wired by main.ts',
  },
  'platforms/discord': platformFolder,
  'platforms/telegram': platformFolder,
  'platforms/web': {
    may: [...platformFolder.may, 'sessions'],
    reason: 'the web console is a platform that also draws the conversation trees, read from the engine',
  },
  'platforms/commands': {
    may: ['sessions', 'platforms', 'platforms/outbox'],
    reason: 'the command table: handlers reach the chat through the CommandContext port',
  },
  'platforms/render': { may: ['sessions'], reason: 'renders the engine progress model; pure' },
  'platforms/outbox': { may: ['src/log', 'platforms/render'], reason: 'delivers formatted text' },
};

/** Modules any module may import: leaves with nothing of ours below them. */
const everywhere = new Set(['src/common']);

/** The files of a module other modules may import: its entry file and declared contract files. */
const publicEntries = new Set([
  'sessions/index.ts',
  'sessions/types.ts',
  // Pure: how an outcome maps to a state, for render, without loading the engine behind sessions/index.ts.
  'sessions/outcome.ts',
  'platforms/index.ts',
  'platforms/platform.ts',
  'platforms/platform-module.ts',
  'platforms/start-errors.ts',
  // How a platform folder defers loading its chat library (discord.js, grammY) until its token is used.
  'platforms/deferred-platform.ts',
  'platforms/discord/index.ts',
  'platforms/telegram/index.ts',
  'platforms/web/index.ts',
  'platforms/render/index.ts',
  'platforms/outbox/index.ts',
  'platforms/commands/index.ts',
  'src/common/index.ts',
  'src/proxy/index.ts',
  'src/gateway/index.ts',
  'src/voice/index.ts',
  'src/config.ts',
  'src/env-file.ts',
  'src/log.ts',
  'src/providers.ts',
]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const importPattern =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2];
    if (specifier?.startsWith('.')) found.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
  }
  return found;
}

const files = ['src', 'sessions', 'platforms'].flatMap((dir) => sourceFiles(join(root, dir)));

describe('module boundaries', () => {
  it('every module has a declared rule', () => {
    const undeclared = [...new Set(files.map(moduleOf))].filter((module) => !(module in allowed));
    expect(undeclared).toEqual([]);
  });

  it('every declared rule names a module that exists (no stale rules)', () => {
    const present = new Set(files.map(moduleOf));
    expect(Object.keys(allowed).filter((module) => !present.has(module))).toEqual([]);
  });

  it('imports follow the table and enter other modules through their public files', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      const rule = allowed[from];
      for (const target of relativeImports(file)) {
        const to = moduleOf(target);
        if (to === from) continue;
        const where = `${relative(root, file)} → ${relative(root, target)}`;
        if (!rule?.may.includes('*') && !rule?.may.includes(to) && !everywhere.has(to))
          violations.push(`${where}: ${from} may not import ${to}`);
        else if (!publicEntries.has(relative(root, target)) && from !== 'src/main')
          violations.push(`${where}: import ${to} through its index.ts`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no file imports itself back through a cycle, type-only imports included', () => {
    const graph = new Map(files.map((file) => [file, relativeImports(file).filter((to) => to !== file)]));
    const cycles: string[] = [];
    const done = new Set<string>();
    const path: string[] = [];
    const onPath = new Set<string>();
    const visit = (file: string): void => {
      if (onPath.has(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(' → '));
        return;
      }
      if (done.has(file)) return;
      path.push(file);
      onPath.add(file);
      for (const next of graph.get(file) ?? []) visit(next);
      path.pop();
      onPath.delete(file);
      done.add(file);
    };
    for (const file of files) visit(file);
    expect(cycles).toEqual([]);
  });

  it('no module reads process.env except the config and the composition root', () => {
    const readers = files
      .filter((file) => /process\.env\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file))
      .filter((file) => !['src/config.ts', 'src/main.ts', 'src/env-file.ts'].includes(file));
    expect(readers).toEqual([]);
  });

  it('no child process is started through a shell', () => {
    const shellUse = files
      .filter((file) =>
        /shell:\s*true|\bexecSync\(|(?<![.\w])exec\(|shelljs|\$`|execaCommand/.test(
          readFileSync(file, 'utf8'),
        ),
      )
      .map((file) => relative(root, file));
    expect(shellUse).toEqual([]);
  });
});
