import type { Dialect } from '../render/index.js';

// Telegram's HTML parse mode as a render Dialect (render knows only the interface; the markup lives with its
// chat). Telegram needs only & < > escaped, plus " inside attributes, and forbids code inside any other entity.

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeHtmlAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

export const telegramHtml: Dialect = {
  name: 'telegram-html',
  escape: escapeHtml,
  // Sent without parse mode, text cannot do anything.
  verbatim: (text) => text,
  bold: (markup) => `<b>${markup}</b>`,
  italic: (markup) => `<i>${markup}</i>`,
  code: (text) => `<code>${escapeHtml(text)}</code>`,
  // The fence's language is letters, digits and a few marks (the parser's pattern): safe in an attribute.
  codeBlock: (language) => ({
    open: language ? `<pre><code class="language-${language}">` : '<pre><code>',
    close: '</code></pre>',
  }),
  codeLine: escapeHtml,
  markdown: {
    strike: (markup) => `<s>${markup}</s>`,
    // Telegram HTML has no headings: bold stands in.
    heading: (markup) => `<b>${markup}</b>`,
    link: (url, markup) => `<a href="${escapeHtmlAttribute(url)}">${markup}</a>`,
    quote: { open: '<blockquote>', close: '</blockquote>' },
    codeNests: false,
  },
  collapsible: { open: '<blockquote expandable>', close: '</blockquote>' },
};
