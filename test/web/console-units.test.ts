import { describe, expect, it } from 'vitest';
import { telegramHtml, WEB_MAX_LENGTH, webHtml } from '../../platforms/index.js';
import { renderMarkdown } from '../../platforms/render/index.js';
import { highlightCodeLine } from '../../platforms/web/dialect.js';
import { createMessageLog, type WebMessage } from '../../platforms/web/message-log.js';
import { createWebTransport } from '../../platforms/web/transport.js';

// The console's pure parts: the numbered log a reconnecting page resumes from, and the HTML its answers are in.

const message = (id: string, text: string): WebMessage => ({
  id,
  author: 'relay',
  replyTo: null,
  html: null,
  text,
  buttons: [],
  files: [],
  at: 0,
});

describe('files the relay sends to the console', () => {
  it('a text file (a /diff patch) is kept to be shown; a binary one is named with its size only', async () => {
    const log = createMessageLog('b1', 100);
    let n = 0;
    const transport = createWebTransport(
      log,
      () => {},
      () => `m${++n}`,
    );
    const patch = await transport.send('console', 'the diff', {
      formatted: false,
      file: { name: 'relay-1.diff', data: new TextEncoder().encode('+<added>\n') },
    });
    expect(log.get(patch.messageId)?.files).toEqual([
      { name: 'relay-1.diff', sizeBytes: 9, text: '+<added>\n' },
    ]);
    const binary = await transport.send('console', 'an image', {
      formatted: false,
      file: { name: 'x.png', data: new Uint8Array([0x89, 0xff, 0xfe, 0x00]) },
    });
    expect(log.get(binary.messageId)?.files).toEqual([{ name: 'x.png', sizeBytes: 4 }]);
  });
});

describe('the console message log', () => {
  it('gives a page that names its last change exactly the changes after it, each once', () => {
    const log = createMessageLog('b1', 100);
    const start = log.lastId();
    log.put(message('r1', 'one'));
    const seen = log.put(message('r1', 'one, edited')).id;
    log.put(message('r2', 'two'));
    log.remove('r1');
    const changesAfter = (id: string) => {
      const result = log.after(id);
      return result.kind === 'changes' ? result.changes.map((c) => c.change) : result.kind;
    };
    expect(changesAfter(start)).toHaveLength(4);
    expect(changesAfter(seen)).toEqual([
      { kind: 'message', message: message('r2', 'two') },
      { kind: 'delete', id: 'r1' },
    ]);
    expect(changesAfter(log.lastId())).toEqual([]);
    expect(log.messages().map((m) => m.id)).toEqual(['r2']);
    // Deleting what is not there is no change.
    expect(log.remove('r1')).toBeNull();
  });

  it('tells a page to reload when it names another run, an id from the future, or changes no longer kept', () => {
    const log = createMessageLog('b2', 3);
    const first = log.lastId();
    for (let n = 0; n < 5; n++) log.put(message(`r${n}`, String(n)));
    expect(log.after(first)).toEqual({ kind: 'reload' });
    expect(log.after('old-run:2')).toEqual({ kind: 'reload' });
    expect(log.after('b2:99')).toEqual({ kind: 'reload' });
    expect(log.after('b2:not-a-number')).toEqual({ kind: 'reload' });
    const kept = log.after('b2:2');
    expect(kept.kind === 'changes' && kept.changes.map((c) => c.id)).toEqual(['b2:3', 'b2:4', 'b2:5']);
  });
});

describe('the console’s HTML dialect', () => {
  const html = (markdown: string) =>
    renderMarkdown(markdown, { dialect: webHtml, maxLength: WEB_MAX_LENGTH })
      .map((part) => part.formatted)
      .join('');

  it('escapes markup from the model everywhere: text, inline code, code blocks, links, tables', () => {
    const hostile = '<img src=x onerror=alert(1)> & "quoted" \'single\'';
    const out = html(
      `${hostile}\n\n\`${hostile}\`\n\n\`\`\`js"><script>\n${hostile}\n\`\`\`\n\n| a | b |\n|---|---|\n| ${hostile} | ok |\n\n[x](https://example.com/"onmouseover=alert(1))`,
    );
    expect(out).not.toMatch(/<img|<script|onerror=alert\(1\)>/);
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39;');
    expect(out).not.toContain('"onmouseover');
  });

  it('renders tables as tables and code blocks as blocks', () => {
    expect(html('| name | value |\n|:--|--:|\n| `x` | **1** |\n| y \\| z | 2 |')).toBe(
      '<table><thead><tr><th>name</th><th>value</th></tr></thead><tbody><tr><td><code>x</code></td><td><strong>1</strong></td></tr><tr><td>y | z</td><td>2</td></tr></tbody></table>',
    );
    expect(html('```ts\nconst a = 1 < 2;\n```')).toBe(
      '<pre><code data-language="ts"><span class="tok-keyword">const</span> a = <span class="tok-number">1</span> &lt; <span class="tok-number">2</span>;</code></pre>',
    );
  });

  it('highlights code (keywords, strings, numbers, comments), each piece escaped on its own', () => {
    expect(highlightCodeLine('if (x) return "<b>" + 42; // <script>')).toBe(
      '<span class="tok-keyword">if</span> (x) <span class="tok-keyword">return</span> <span class="tok-string">&quot;&lt;b&gt;&quot;</span> + <span class="tok-number">42</span>; <span class="tok-comment">// &lt;script&gt;</span>',
    );
    expect(highlightCodeLine('def f(): pass  # done')).toBe(
      '<span class="tok-keyword">def</span> f(): <span class="tok-keyword">pass</span>  <span class="tok-comment"># done</span>',
    );
    // An unclosed quote is plain text, escaped: no span is left open.
    expect(highlightCodeLine("it's <fine>")).toBe('it&#39;s &lt;fine&gt;');
  });

  it('draws a table as aligned monospace for a chat without table markup (Telegram)', () => {
    const parts = renderMarkdown('| a | b |\n|---|---|\n| 1 | 2 |', {
      dialect: telegramHtml,
      maxLength: 4096,
    });
    expect(parts.map((part) => part.formatted).join('')).toBe('<pre><code>a | b\n--+--\n1 | 2</code></pre>');
  });
});
