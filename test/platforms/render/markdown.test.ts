import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../../platforms/discord/index.js';
import { renderMarkdown } from '../../../platforms/render/index.js';
import { telegramHtml } from '../../../platforms/telegram/index.js';
import { contentOf, telegramHtmlProblems } from './oracle.js';

const tg = { dialect: telegramHtml, maxLength: 4096 } as const;
const dc = { dialect: discordMarkdown, maxLength: 2000 } as const;
const one = (md: string, limits: typeof tg | typeof dc = tg) => {
  const parts = renderMarkdown(md, limits);
  expect(parts).toHaveLength(1);
  return parts[0]!;
};

describe('markdown → Telegram HTML', () => {
  it('renders emphasis, code, links, headings, bullets and escapes & < >', () => {
    const part = one(
      '# Plan *now*\nUse **bold**, _it_, ~~old~~ and `a<b>` & [docs](https://x.io/?a=1&b=2)\n- one\n* two',
    );
    expect(part.formatted).toBe(
      '<b>Plan <i>now</i></b>\nUse <b>bold</b>, <i>it</i>, <s>old</s> and <code>a&lt;b&gt;</code> &amp; ' +
        '<a href="https://x.io/?a=1&amp;b=2">docs</a>\n• one\n• two',
    );
    expect(part.plain).toBe(
      'Plan now\nUse bold, it, old and a<b> & docs (https://x.io/?a=1&b=2)\n• one\n• two',
    );
  });

  it('keeps code fences with their language and escapes their content', () => {
    const part = one('```ts\nif (a < b && c) {}\n```');
    expect(part.formatted).toBe('<pre><code class="language-ts">if (a &lt; b &amp;&amp; c) {}</code></pre>');
    expect(part.plain).toBe('ts\nif (a < b && c) {}');
  });

  it('closes an unclosed fence at the end of the text', () => {
    expect(one('text\n```\nlet x = 1;').formatted).toBe('text\n<pre><code>let x = 1;</code></pre>');
  });

  it('degrades unbalanced markup to escaped literal text', () => {
    const part = one('a **b _c `d [e](javascript:alert(1)) <i>');
    expect(part.formatted).toBe('a **b _c `d [e](javascript:alert(1)) &lt;i&gt;');
    expect(telegramHtmlProblems(part.formatted)).toEqual([]);
  });

  it('leaves snake_case and arithmetic alone', () => {
    expect(one('call my_func_name with 2 * 3 * 4').formatted).toBe('call my_func_name with 2 * 3 * 4');
  });

  it('groups quote lines in one blockquote without code inside', () => {
    expect(one('> said `x`\n> and **y**').formatted).toBe('<blockquote>said x\nand <b>y</b></blockquote>');
  });

  it('never nests code inside bold (Telegram rejects it)', () => {
    expect(one('**see `f()`**').formatted).toBe('<b>see f()</b>');
  });
});

describe('markdown → Discord', () => {
  it('passes markdown through and keeps fences', () => {
    const md = '# Title\n**bold** `code`\n```py\nprint(1)\n```';
    expect(one(md, dc).formatted).toBe(md);
  });

  it('neutralises @everyone, @here and user mentions in text and plain', () => {
    const part = one('hey @everyone and @here and <@123> <@!45> <@&6>', dc);
    expect(part.formatted).not.toMatch(/@everyone|@here|<@\d|<@!|<@&/);
    expect(part.plain).not.toMatch(/@everyone|@here/);
    expect(part.formatted.replace(/\u200b/g, '')).toBe('hey @everyone and @here and <@123> <@!45> <@&6>');
  });

  it('keeps a fence inside code from closing the block early', () => {
    const part = one('~~~md\n```js\nx\n```\n~~~', dc);
    expect(part.formatted.match(/^```/gm)).toHaveLength(2);
  });
});

describe('splitting long answers', () => {
  it('delivers a 9,000-character answer complete, split at paragraphs, under 2,000 each', () => {
    const paragraphs = Array.from({ length: 50 }, (_, i) =>
      `Paragraph ${i}: ${'lorem ipsum '.repeat(15)}`.trim(),
    );
    const md = paragraphs.join('\n\n');
    expect(md.length).toBeGreaterThan(9000);
    const parts = renderMarkdown(md, dc);
    expect(parts.length).toBeGreaterThanOrEqual(5);
    for (const part of parts) {
      expect(part.formatted.length).toBeLessThanOrEqual(2000);
      // each part starts and ends on a paragraph boundary
      expect(part.formatted.startsWith('Paragraph')).toBe(true);
      expect(part.formatted.endsWith('ipsum')).toBe(true);
    }
    expect(parts.map((p) => p.formatted).join('\n\n')).toBe(md);
  });

  it('closes a long code fence at each split and reopens it with the same language', () => {
    const code = Array.from({ length: 300 }, (_, i) => `const line${i} = ${i}; // <tag> & more`).join('\n');
    const parts = renderMarkdown(`Intro\n\n\`\`\`typescript\n${code}\n\`\`\`\n\nOutro`, tg);
    expect(parts.length).toBeGreaterThan(2);
    const codeParts = parts.filter((p) => p.formatted.includes('<pre>'));
    expect(codeParts.length).toBeGreaterThan(1);
    for (const part of codeParts) {
      expect(part.formatted).toMatch(/<pre><code class="language-typescript">[\s\S]*<\/code><\/pre>/);
      expect(telegramHtmlProblems(part.formatted)).toEqual([]);
    }
    const joined = parts.map((p) => p.plain).join('\n');
    expect(contentOf(joined)).toBe(contentOf(`Intro typescript ${code} Outro`));
    // no line is duplicated or cut
    for (let i = 0; i < 300; i++) expect(joined.split(`const line${i} = ${i};`)).toHaveLength(2);
  });

  it('cuts a single line longer than a message at spaces, never inside an emoji', () => {
    const line = '😀 word '.repeat(1500);
    const parts = renderMarkdown(line, dc);
    for (const part of parts) {
      expect(part.formatted.length).toBeLessThanOrEqual(2000);
      expect(part.formatted).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
    expect(contentOf(parts.map((p) => p.plain).join(''))).toBe(contentOf(line));
  });

  it('gives no parts for blank input and refuses absurd limits', () => {
    expect(renderMarkdown(' \n\n ', tg)).toEqual([]);
    expect(() => renderMarkdown('x', { dialect: telegramHtml, maxLength: 10 })).toThrow(RangeError);
  });
});

describe("each dialect's escape", () => {
  it('escapes HTML for Telegram and markdown for Discord', () => {
    expect(telegramHtml.escape('a < b & *c*')).toBe('a &lt; b &amp; *c*');
    expect(discordMarkdown.escape('*a* _b_ `c` @everyone')).toBe('\\*a\\* \\_b\\_ \\`c\\` @\u200beveryone');
  });
});
