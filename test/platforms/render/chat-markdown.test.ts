import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../../platforms/discord/index.js';
import { renderMarkdown } from '../../../platforms/render/index.js';
import { telegramHtml } from '../../../platforms/telegram/index.js';
import { contentOf, telegramHtmlProblems } from './oracle.js';

// Markdown no chat draws by itself (tables, bold across lines), as a phone shows it.

const tg = { dialect: telegramHtml, maxLength: 4096 } as const;
const dc = { dialect: discordMarkdown, maxLength: 2000 } as const;
const render = (md: string, limits: typeof tg | typeof dc) => {
  const parts = renderMarkdown(md, limits);
  expect(parts).toHaveLength(1);
  return parts[0]!;
};

const TABLE = '| Name | Age |\n|------|----:|\n| **Alice** | 30 |\n| Bob | 4 |';

describe('tables, lists and emphasis across lines', () => {
  it('draws a narrow table as an aligned monospace block (numbers right-aligned), on both chats', () => {
    const telegram = render(`Team:\n\n${TABLE}\n\nDone.`, tg);
    expect(telegram.formatted).toBe(
      'Team:\n\n<pre><code>Name  | Age\n------+----\nAlice |  30\nBob   |   4</code></pre>\n\nDone.',
    );
    expect(telegramHtmlProblems(telegram.formatted)).toEqual([]);
    expect(render(TABLE, dc).formatted).toBe('```\nName  | Age\n------+----\nAlice |  30\nBob   |   4\n```');
  });

  it('turns a table too wide for a phone into its header in bold and one bullet per row', () => {
    const wide =
      '| Setting | What it does | Default |\n|---|---|---|\n| `MODEL` | which model answers every tier | none |';
    expect(render(wide, tg).formatted).toBe(
      '<b>Setting · What it does · Default</b>\n• <code>MODEL</code> · which model answers every tier · none',
    );
    expect(render(wide, dc).formatted).toBe(
      '**Setting · What it does · Default**\n- `MODEL` · which model answers every tier · none',
    );
  });

  it('keeps a cell with an escaped pipe, and extra cells, without losing text', () => {
    const md = '| a | b |\n|---|---|\n| x \\| y | z | extra |';
    const part = render(md, tg);
    expect(part.plain).toContain('x | y');
    expect(part.plain).toContain('z | extra');
  });

  it('leaves pipes in code and in plain sentences alone', () => {
    expect(render('```\n| a | b |\n|---|---|\n```', tg).formatted).toBe(
      '<pre><code>| a | b |\n|---|---|</code></pre>',
    );
    expect(render('either a | b', tg).formatted).toBe('either a | b');
  });

  it('keeps bold and strikethrough that span lines, closed and reopened on each line', () => {
    const part = render('This is **bold\nacross lines** and ~~gone\n- also~~ here', tg);
    expect(part.formatted).toBe(
      'This is <b>bold</b>\n<b>across lines</b> and <s>gone</s>\n• <s>also</s> here',
    );
    expect(contentOf(part.plain)).toBe(contentOf('This is bold across lines and gone also here'));
  });

  it('numbers ordered lists and indents nested items', () => {
    const part = render('1. first **step**\n2. second\n   - nested [link](https://x.io)', tg);
    expect(part.formatted).toBe(
      '1. first <b>step</b>\n2. second\n   • nested <a href="https://x.io">link</a>',
    );
  });
});
