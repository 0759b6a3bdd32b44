import type { ProxyConfig } from '../config.js';
import { isRecord, type Json, records, str } from './anthropic-types.js';

// Local answers to the CLI's trivial side calls, so they cost no provider request. Each is switchable.
// Detection is checked against recorded requests of CLI 2.1.197 and 2.1.330 (test/proxy/shortcuts.test.ts).

export type ShortcutKind = 'quota' | 'prefix' | 'title' | 'suggestion' | 'filepaths';

export interface Shortcut {
  kind: ShortcutKind;
  text: string;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return records(content)
    .map((block) => str(block.text) ?? '')
    .join('');
}

function systemText(request: Json): string {
  return textOf(request.system);
}

function userMessages(request: Json): Json[] {
  return records(request.messages).filter((m) => m.role === 'user');
}

function hasTools(request: Json): boolean {
  return Array.isArray(request.tools) && request.tools.length > 0;
}

/** The title call: no tools and a JSON schema asking for `title` (2.1.330) or the older title prompt. */
function isTitleCall(request: Json): boolean {
  if (hasTools(request)) return false;
  const config = isRecord(request.output_config) ? request.output_config : {};
  const format = isRecord(config.format) ? config.format : {};
  const schema = isRecord(format.schema) ? format.schema : {};
  if (isRecord(schema.properties) && 'title' in schema.properties) return true;
  const system = systemText(request).toLowerCase();
  return (
    system.includes('title') &&
    (system.includes('new conversation topic') || system.includes('naming a coding session'))
  );
}

function titleFrom(request: Json): string {
  const text = textOf(userMessages(request).at(-1)?.content);
  const session = /<session>\s*([\s\S]*?)\s*<\/session>/.exec(text)?.[1] ?? text;
  const words = session.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean).slice(0, 6).join(' ');
  const title = words.length > 0 ? words[0]?.toUpperCase() + words.slice(1) : 'New session';
  return title.length > 60 ? `${title.slice(0, 57)}…` : title;
}

/** Non-POSIX shell-ish split: quotes at a token start group words and are kept. Throws on an open quote. */
function splitCommand(command: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < command.length) {
    while (i < command.length && /\s/.test(command[i] ?? '')) i++;
    if (i >= command.length) break;
    const quote = command[i];
    if (quote === '"' || quote === "'") {
      const end = command.indexOf(quote, i + 1);
      if (end === -1) throw new Error('unterminated quote');
      tokens.push(command.slice(i, end + 1));
      i = end + 1;
    } else {
      let j = i;
      while (j < command.length && !/\s/.test(command[j] ?? '')) j++;
      tokens.push(command.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

const TWO_WORD = new Set(['git', 'npm', 'docker', 'kubectl', 'cargo', 'go', 'pip', 'yarn', 'pnpm']);

function commandPrefix(command: string): string {
  if (command.includes('`') || command.includes('$(')) return 'command_injection_detected';
  let tokens: string[];
  try {
    tokens = splitCommand(command);
  } catch {
    return command.trim().split(/\s+/)[0] || 'none';
  }
  const env: string[] = [];
  while (tokens.length > 0 && tokens[0]?.includes('=') && !tokens[0].startsWith('-'))
    env.push(tokens.shift() ?? '');
  const [first, second] = tokens;
  if (!first) return 'none';
  if (TWO_WORD.has(first) && second) return second.startsWith('-') ? first : `${first} ${second}`;
  return [...env, first].join(' ');
}

const READERS = new Set(['cat', 'head', 'tail', 'less', 'more', 'bat', 'type']);

function filePaths(command: string): string[] {
  let tokens: string[];
  try {
    tokens = splitCommand(command);
  } catch {
    return [];
  }
  const base = (tokens[0] ?? '').split(/[\\/]/).at(-1)?.toLowerCase() ?? '';
  const rest = tokens.slice(1);
  if (READERS.has(base)) return rest.filter((t) => !t.startsWith('-'));
  if (base !== 'grep') return [];
  const positional: string[] = [];
  let explicitPattern = false;
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] ?? '';
    if (!token.startsWith('-')) positional.push(token);
    else if (['-e', '-f', '-m', '-A', '-B', '-C'].includes(token)) {
      if (token === '-e' || token === '-f') explicitPattern = true;
      i++;
    }
  }
  return explicitPattern ? positional : positional.slice(1);
}

export function detectShortcut(request: Json, flags: ProxyConfig['shortcuts']): Shortcut | null {
  const users = userMessages(request);
  const only = records(request.messages).length === 1 ? users[0] : undefined;
  const onlyText = only ? textOf(only.content) : '';
  if (flags.networkProbeMock && request.max_tokens === 1 && only && /quota/i.test(onlyText)) {
    return { kind: 'quota', text: 'Quota check passed.' };
  }
  if (
    flags.fastPrefixDetection &&
    only &&
    onlyText.includes('<policy_spec>') &&
    onlyText.includes('Command:')
  ) {
    const command = onlyText.slice(onlyText.lastIndexOf('Command:') + 'Command:'.length).trim();
    return { kind: 'prefix', text: commandPrefix(command) };
  }
  if (flags.titleGenerationSkip && isTitleCall(request)) {
    return { kind: 'title', text: JSON.stringify({ title: titleFrom(request) }) };
  }
  if (flags.suggestionModeSkip && users.some((m) => textOf(m.content).includes('[SUGGESTION MODE:'))) {
    return { kind: 'suggestion', text: '' };
  }
  if (flags.filepathExtractionMock && only && !hasTools(request) && onlyText.includes('Command:')) {
    const system = systemText(request).toLowerCase();
    const asks =
      onlyText.toLowerCase().includes('filepaths') ||
      system.includes('extract any file paths') ||
      system.includes('file paths that this command');
    const match = /Command:([\s\S]*?)Output:/.exec(onlyText);
    if (asks && match) {
      const paths = filePaths((match[1] ?? '').trim());
      return { kind: 'filepaths', text: `<filepaths>\n${paths.map((p) => `${p}\n`).join('')}</filepaths>` };
    }
  }
  return null;
}
