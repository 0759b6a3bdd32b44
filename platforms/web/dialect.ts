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

/** Words most languages reserve: enough to make code readable at a glance, not a parser of any one of them. */
const KEYWORDS = new Set(
  (
    'abstract as async await break case catch class const continue def default defer del do elif else enum ' +
    'export extends false final finally fn for from func function go if impl implements import in interface ' +
    'is lambda let match mod module mut new nil none not null of or and package pass private protected pub ' +
    'public raise return self static struct super switch this throw throws trait true try type typeof undefined ' +
    'use var void where while with yield'
  ).split(' '),
);

/** A comment to the line's end, a quoted string, a number, or a word; whatever lies between stays plain. */
const TOKEN =
  /(\/\/.*$|#(?!include)\s.*$|--\s.*$)|("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`)|(\b\d[\d_]*(?:\.\d+)?\b)|(\b[A-Za-z_]\w*\b)/g;

/**
 * One line of a code block, highlighted: each token escaped on its own and wrapped in a class the page styles.
 * Line by line (a string or comment over several lines is highlighted on its first only): the renderer hands code
 * over one line at a time, and a wrong colour is harmless where a wrong tag is not.
 */
export function highlightCodeLine(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const [token, comment, string, number, word] = match;
    const index = match.index ?? 0;
    out += escapeHtml(text.slice(last, index));
    last = index + token.length;
    const kind =
      comment !== undefined
        ? 'comment'
        : string !== undefined
          ? 'string'
          : number !== undefined
            ? 'number'
            : word !== undefined && KEYWORDS.has(word)
              ? 'keyword'
              : null;
    out += kind === null ? escapeHtml(token) : `<span class="tok-${kind}">${escapeHtml(token)}</span>`;
  }
  return out + escapeHtml(text.slice(last));
}

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
  codeLine: highlightCodeLine,
  // A fold under the answer: the page keeps it open or closed across its re-renders (console.js).
  collapsible: {
    open: '<details class="steps"><summary>Show steps</summary>',
    close: '</details>',
    after: true,
  },
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
