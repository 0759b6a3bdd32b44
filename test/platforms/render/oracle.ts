// Independent checks for rendered chat text: Telegram HTML well-formedness and "all content is there".

const ALLOWED = new Set(['b', 'i', 's', 'code', 'pre', 'a', 'blockquote']);
/** Tags Telegram forbids inside other entities (code and pre may only nest as <pre><code>). */
const NO_NESTING_INSIDE = new Set(['code', 'pre']);

/** Returns the problems found; an empty list means Telegram would accept the HTML. */
export function telegramHtmlProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-z]+)((?: [a-z]+(?:="[^"<>]*")?)*)>/g;
  let last = 0;
  for (const match of html.matchAll(tag)) {
    checkText(html.slice(last, match.index), problems);
    last = match.index + match[0].length;
    const [, closing, name = '', attributes] = match;
    if (!ALLOWED.has(name)) problems.push(`tag <${name}> not allowed`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    if (
      attributes &&
      !(name === 'a' && /^ href="/.test(attributes)) &&
      !(name === 'code' && /^ class="language-/.test(attributes)) &&
      !(name === 'blockquote' && attributes === ' expandable')
    )
      problems.push(`unexpected attributes on <${name}>: ${attributes}`);
    const parent = stack.at(-1);
    if (parent && NO_NESTING_INSIDE.has(parent) && !(parent === 'pre' && name === 'code'))
      problems.push(`<${name}> inside <${parent}>`);
    if (name === 'code' && parent && parent !== 'pre') problems.push(`<code> inside <${parent}>`);
    if (name === 'blockquote' && stack.includes('blockquote')) problems.push('nested blockquote');
    stack.push(name);
  }
  checkText(html.slice(last), problems);
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}

function checkText(text: string, problems: string[]): void {
  if (/[<>]/.test(text)) problems.push(`raw < or > in text: ${JSON.stringify(text.slice(0, 80))}`);
  const stray = text.replace(/&(?:amp|lt|gt|quot);/g, '');
  if (stray.includes('&')) problems.push(`unescaped & in text: ${JSON.stringify(text.slice(0, 80))}`);
}

/**
 * What a reader must get back: every character that is not whitespace, markdown syntax (table rules included),
 * a bullet or a zero-width space, in order.
 */
export function contentOf(text: string): string {
  // A colon against a dash is a table's column alignment (`---:`): markup, dropped with the separator row.
  return text.replace(/:(?=-)|(?<=-):/g, '').replace(/[\s\u200b*_~`#>[\]()\\|+\-•·]/g, '');
}

export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
