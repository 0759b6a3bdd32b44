import type { ProxyConfig } from '../config.js';
import { isRecord, type Json, records, str } from './anthropic-types.js';

// Local answers to the CLI's trivial side calls, so they cost no provider request. One is left: the session
// title (ENABLE_TITLE_GENERATION_SKIP), checked against the title calls recorded from CLI 2.1.197 and 2.1.330
// (test/proxy/recorded-requests.test.ts). free-claude-code's other four (command prefix, quota probe, suggestion
// mode, file-path extraction) were removed: no recorded request of either CLI makes those calls, and 2.1.330 no
// longer contains the prefix and file-path prompts at all. Their variables are still read, and do nothing.

export type ShortcutKind = 'title';

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

export function detectShortcut(request: Json, flags: ProxyConfig['shortcuts']): Shortcut | null {
  if (flags.titleGenerationSkip && isTitleCall(request)) {
    return { kind: 'title', text: JSON.stringify({ title: titleFrom(request) }) };
  }
  return null;
}
