import type { Dialect } from './types.js';

// Escaping for each dialect. Telegram HTML needs only & < > (and " inside attributes); Discord markdown is
// neutralised with backslashes, and mentions get a zero-width space so a relayed text can never ping anyone.

const ZWSP = '\u200b';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/** `@everyone`, `@here`, `<@id>`, `<@!id>`, `<@&id>` lose their power; the visible text stays the same. */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(everyone|here)\b/g, `@${ZWSP}$1`).replace(/<@([!&]?\d)/g, `<@${ZWSP}$1`);
}

export function escapeDiscord(text: string): string {
  const escaped = text.replace(/[\\*_`~|>#[\]]/g, '\\$&').replace(/^(\s*)([-+])/gm, '$1\\$2');
  return neutraliseMentions(escaped);
}

export function escapeForDialect(text: string, dialect: Dialect): string {
  return dialect === 'telegram-html' ? escapeHtml(text) : escapeDiscord(text);
}

/** Escapes text so our own markdown parser (and Discord) shows it literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]#>|]/g, '\\$&').replace(/^(\s*)([-+])/gm, '$1\\$2');
}

/** Inline code in the dialect; Discord picks a backtick fence the text cannot close. */
export function inlineCode(text: string, dialect: Dialect): string {
  if (dialect === 'telegram-html') return `<code>${escapeHtml(text)}</code>`;
  if (!text.includes('`')) return `\`${text}\``;
  if (!text.includes('``')) return `\`\` ${text} \`\``;
  return escapeDiscord(text);
}
