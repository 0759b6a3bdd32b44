import type { Dialect } from '../render/index.js';

// The web console's markup: HTML the browser puts in place as is. Everything that came from the model, a tool or
// a file name passes through `escapeHtml` first, so the only tags in a message are the ones written here.

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const cell = (tag: 'th' | 'td', markup: string): string => `<${tag}>${markup}</${tag}>`;

export const webHtml: Dialect = {
  name: 'web-html',
  escape: escapeHtml,
  // Plain text is put in place with textContent by the page: nothing in it is markup.
  verbatim: (text) => text,
  bold: (markup) => `<strong>${markup}</strong>`,
  italic: (markup) => `<em>${markup}</em>`,
  code: (text) => `<code>${escapeHtml(text)}</code>`,
  // The fence's language is letters, digits and a few marks (the parser's pattern), escaped all the same.
  codeBlock: (language) => ({
    open: language ? `<pre><code data-language="${escapeHtml(language)}">` : '<pre><code>',
    close: '</code></pre>',
  }),
  codeLine: escapeHtml,
  markdown: {
    strike: (markup) => `<s>${markup}</s>`,
    heading: (markup) => `<strong class="heading">${markup}</strong>`,
    // The parser lets only safe schemes through; the page opens links in a new tab without an opener.
    link: (url, markup) =>
      `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${markup}</a>`,
    quote: { open: '<blockquote>', close: '</blockquote>' },
    codeNests: true,
    table: (header, rows) =>
      [
        '<table>',
        `<thead><tr>${header.map((markup) => cell('th', markup)).join('')}</tr></thead>`,
        `<tbody>${rows.map((row) => `<tr>${row.map((markup) => cell('td', markup)).join('')}</tr>`).join('')}</tbody>`,
        '</table>',
      ].join(''),
  },
};
