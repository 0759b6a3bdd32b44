import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, missingKeyWarnings } from '../../src/config.js';
import { PROVIDER_LIST, type ProviderDescriptor } from '../../src/providers.js';

// The provider table (src/providers.ts) is the only list of providers: config, the start-up warning and the
// proxy read it, so adding a provider is one entry. Every check walks the table itself, never a copy of it.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cwd = '/srv/relay';
const entries = PROVIDER_LIST.map((provider) => [provider.id, provider] as const);

/** Routes the default tier to `provider`, with a base URL where it has no default (else config refuses). */
function routedTo(provider: ProviderDescriptor): Record<string, string> {
  const env: Record<string, string> = { MODEL: `${provider.id}/test-model` };
  if (provider.defaultBaseUrl === '') env[provider.baseUrlVariable] = 'http://fallback.test/v1';
  return env;
}

describe('config reads each provider from the table', () => {
  it.each(entries)('%s: its declared variables set its base URL and key', (id, provider) => {
    const env = { ...routedTo(provider), [provider.baseUrlVariable]: 'http://upstream.test:9/v1/' };
    if (provider.key) env[provider.key.variable] = `key-of-${id}`;
    const config = loadConfig(env, cwd).proxy;
    expect(config.models.default).toEqual({ provider: id, model: 'test-model' });
    expect(config.providers[id]).toEqual({
      id,
      protocol: provider.protocol,
      baseUrl: 'http://upstream.test:9/v1',
      apiKey: provider.key ? `key-of-${id}` : undefined,
      requestFields: provider.requestDefaults,
      userFields: {},
    });
  });

  it.each(entries)(
    '%s: as PROVIDER_TYPE alone it takes the table defaults or names what is missing',
    (id, provider) => {
      const env = { PROVIDER_TYPE: id };
      if (provider.defaultBaseUrl === '') {
        expect(() => loadConfig(env, cwd)).toThrow(`${provider.baseUrlVariable}: is required`);
        return;
      }
      const config = loadConfig(env, cwd).proxy;
      expect(config.models.default).toEqual({ provider: id, model: provider.defaultModel });
      expect(config.providers[id].baseUrl).toBe(provider.defaultBaseUrl);
    },
  );
});

describe('the start-up warning reads the table', () => {
  it.each(entries)('%s: names its key variable when the key is required and unset', (_id, provider) => {
    const env = routedTo(provider);
    const warnings = missingKeyWarnings(loadConfig(env, cwd).proxy);
    if (provider.key?.required) {
      expect(warnings).toEqual([expect.stringContaining(`${provider.key.variable} is not set`)]);
      const withKey = { ...env, [provider.key.variable]: 'set' };
      expect(missingKeyWarnings(loadConfig(withKey, cwd).proxy)).toEqual([]);
    } else {
      expect(warnings).toEqual([]);
    }
  });
});

/** Literals that spell a provider id but mean something else, each with what it means. Stale entries fail. */
const NOT_PROVIDER_IDS = [
  {
    file: 'src/config.ts',
    line: "backend: 'proxy' | 'anthropic';",
    reason: "CLAUDE_BACKEND=anthropic: sessions use the CLI's own login, no provider at all",
  },
  {
    file: 'src/config.ts',
    line: "backend: oneOf(env, 'CLAUDE_BACKEND', ['proxy', 'anthropic'] as const, 'proxy'),",
    reason: "CLAUDE_BACKEND=anthropic: sessions use the CLI's own login, no provider at all",
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Comments and string literals, left to right, so a quote inside a comment or a `//` inside a string is taken
 * for what it is. Template literals count whole (their text is then never exactly a provider id).
 */
const TOKENS = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g;

interface Literal {
  text: string;
  /** `file:line`. */
  at: string;
  /** The whole line, trimmed, to match exceptions and to show in a failure. */
  line: string;
}

/** Every string literal of a file (not comments), with where it is. */
function stringLiterals(path: string): Literal[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const found: Literal[] = [];
  let row = 0;
  let counted = 0;
  for (const match of text.matchAll(TOKENS)) {
    for (; counted < match.index; counted++) if (text[counted] === '\n') row++;
    const token = match[0];
    if (token.startsWith('/')) continue;
    found.push({
      text: token.slice(1, -1),
      at: `${relative(root, path)}:${row + 1}`,
      line: lines[row]?.trim() ?? '',
    });
  }
  return found;
}

/** Literals in src/ (outside the table) that spell a provider id or one of the table's variable names. */
function providerLiterals(): Literal[] {
  const spelled = new Set(
    PROVIDER_LIST.flatMap((provider) => [
      provider.id,
      provider.baseUrlVariable,
      ...(provider.key ? [provider.key.variable] : []),
    ]),
  );
  return sourceFiles(join(root, 'src'))
    .filter((path) => relative(root, path) !== 'src/providers.ts')
    .flatMap((path) => stringLiterals(path).filter((literal) => spelled.has(literal.text)));
}

const isExcused = (literal: Literal, known: (typeof NOT_PROVIDER_IDS)[number]): boolean =>
  literal.at.startsWith(`${known.file}:`) && literal.line === known.line;

describe('no second list of providers in src/', () => {
  it('spells provider ids and their variable names only in src/providers.ts', () => {
    const stray = providerLiterals()
      .filter((literal) => !NOT_PROVIDER_IDS.some((known) => isExcused(literal, known)))
      .map(
        (literal) => `${literal.at}: '${literal.text}' (read it from src/providers.ts) in: ${literal.line}`,
      );
    expect(stray).toEqual([]);
  });

  it('every excused literal is still there', () => {
    const literals = providerLiterals();
    const stale = NOT_PROVIDER_IDS.filter(
      (known) => !literals.some((literal) => isExcused(literal, known)),
    ).map((known) => `${known.file}: no longer has \`${known.line}\` (${known.reason}): drop the exception`);
    expect(stale).toEqual([]);
  });
});
