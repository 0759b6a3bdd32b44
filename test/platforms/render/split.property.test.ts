import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { discordMarkdown } from '../../../platforms/discord/index.js';
import { type Dialect, renderMarkdown } from '../../../platforms/render/index.js';
import { telegramHtml } from '../../../platforms/telegram/index.js';
import { parseTelegramHtml } from '../../fakes/telegram-html.js';
import { contentOf, hasLoneSurrogate, telegramHtmlProblems } from './oracle.js';

// Property tests of the splitter: any input, any limit → parts within the limit, well-formed Telegram HTML,
// nothing lost or duplicated. Seeded; the seed is printed so a failure can be replayed.

const SEED = 424242;

const pieces = [
  '*',
  '**',
  '_',
  '__',
  '~~',
  '`',
  '```',
  '```ts',
  '~~~',
  '[',
  ']',
  '(',
  ')',
  '](https://x.io/a)',
  '#',
  '# ',
  '> ',
  '- ',
  '* ',
  '1. ',
  '\\',
  '&',
  '<',
  '>',
  '"',
  '@everyone',
  '<@123>',
  '\n',
  '\n\n',
  ' ',
  '  ',
  '\t',
  'word',
  'ä',
  '😀',
  '👍🏽',
  '𝔘',
  'x'.repeat(40),
  'https://e.com/?q=1&r=<2>',
  '|',
  ' | ',
  '\\|',
  '\n|---|---|\n',
  '\n| a | **b** |\n| --- | ---: |\n| `c` | d |\n',
];
const markdownish = fc
  .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'grapheme', maxLength: 12 })), {
    maxLength: 400,
  })
  .map((parts) => parts.join(''));
const dialect = fc.constantFrom<Dialect>(telegramHtml, discordMarkdown);

function checkParts(input: string, d: Dialect, maxLength: number): void {
  const parts = renderMarkdown(input, { dialect: d, maxLength });
  for (const part of parts) {
    expect(part.formatted.length).toBeLessThanOrEqual(maxLength);
    expect(part.plain.length).toBeLessThanOrEqual(maxLength);
    expect(part.plain.trim()).not.toBe('');
    expect(hasLoneSurrogate(part.formatted) || hasLoneSurrogate(part.plain)).toBe(false);
    if (d === telegramHtml) {
      expect(telegramHtmlProblems(part.formatted)).toEqual([]);
      // What the Bot API fake accepts, and what it counts against the limit: the visible text.
      const parsed = parseTelegramHtml(part.formatted);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(parsed.visible.length).toBeLessThanOrEqual(maxLength);
    }
  }
  expect(contentOf(parts.map((p) => p.plain).join('\n'))).toBe(contentOf(input));
}

describe(`renderMarkdown properties (fast-check seed ${SEED})`, () => {
  it('keeps every part within the limit, well-formed and complete', () => {
    fc.assert(
      fc.property(markdownish, dialect, fc.integer({ min: 100, max: 600 }), (input, d, max) =>
        checkParts(input, d, max),
      ),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('handles input made only of markdown control characters', () => {
    const controls = fc
      .array(fc.constantFrom('*', '_', '`', '~', '[', ']', '(', ')', '#', '>', '-', '\\', '|', '\n', ' '), {
        maxLength: 2000,
      })
      .map((c) => c.join(''));
    fc.assert(
      fc.property(controls, dialect, fc.integer({ min: 100, max: 300 }), (input, d, max) =>
        checkParts(input, d, max),
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('splits 50 KB inputs at the real limits', () => {
    const big = fc
      .array(fc.constantFrom(...pieces), { minLength: 5000, maxLength: 5000 })
      .map((parts) => parts.join('').slice(0, 50_000));
    fc.assert(
      fc.property(big, dialect, (input, d) => checkParts(input, d, d === telegramHtml ? 4096 : 2000)),
      { seed: SEED, numRuns: 12 },
    );
  });
});
