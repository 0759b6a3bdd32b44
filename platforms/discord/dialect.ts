import type { Dialect } from '../render/index.js';

// Discord's markdown as a render Dialect (render knows only the interface; the markup lives with its chat).
// Discord reads markdown itself, so answers go as written; what we escape gets backslashes, and mentions get a
// zero-width space so relayed text can never ping anyone.

const ZWSP = '\u200b';

/** `@everyone`, `@here`, `<@id>`, `<@!id>`, `<@&id>` lose their power; the visible text stays the same. */
function neutraliseMentions(text: string): string {
  return text.replace(/@(everyone|here)\b/g, `@${ZWSP}$1`).replace(/<@([!&]?\d)/g, `<@${ZWSP}$1`);
}

function escapeDiscord(text: string): string {
  const escaped = text.replace(/[\\*_`~|>#[\]]/g, '\\$&').replace(/^(\s*)([-+])/gm, '$1\\$2');
  return neutraliseMentions(escaped);
}

/** A backtick fence the text cannot close; text holding a double backtick is escaped instead. */
function inlineCode(text: string): string {
  if (!text.includes('`')) return `\`${text}\``;
  if (!text.includes('``')) return `\`\` ${text} \`\``;
  return escapeDiscord(text);
}

export const discordMarkdown: Dialect = {
  name: 'discord-markdown',
  escape: escapeDiscord,
  verbatim: neutraliseMentions,
  bold: (markup) => `**${markup}**`,
  italic: (markup) => `*${markup}*`,
  code: inlineCode,
  codeBlock: (language) => ({ open: `\`\`\`${language}\n`, close: '\n```' }),
  // A fence inside the block would end it early; a zero-width space keeps it visible but inert.
  codeLine: (text) => text.replace(/```/g, `\`${ZWSP}\`\``),
  markdown: 'native',
};
