import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toSafeFileName } from '../../platforms/attachment-names.js';
import { ATTACHMENT_MAX_BYTES, attachmentPrompt, saveAttachments } from '../../platforms/attachments.js';
import { helpText } from '../../platforms/commands/index.js';
import type { IncomingFile } from '../../platforms/platform.js';
import { formatBytes as describeSize } from '../../src/common/index.js';
import { createLogger } from '../../src/log.js';

const logger = createLogger('silent', []);

function file(fileName: string, data: Uint8Array | Error, options: { declared?: number | null } = {}) {
  let downloads = 0;
  const incoming: IncomingFile & { downloads(): number } = {
    fileName,
    mimeType: 'text/plain',
    sizeBytes:
      options.declared === undefined ? (data instanceof Error ? 1 : data.byteLength) : options.declared,
    async download() {
      downloads += 1;
      if (data instanceof Error) throw data;
      return data;
    },
    downloads: () => downloads,
  };
  return incoming;
}

describe('toSafeFileName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['.bashrc', 'bashrc'],
    ['...hidden.txt', 'hidden.txt'],
    ['report..final...pdf', 'report.final.pdf'],
    ['-rf.sh', 'rf.sh'],
    ['shot 2024:01:02.png', 'shot 2024_01_02.png'],
    ['evil\u202Etxt.exe', 'evil_txt.exe'],
    ['..', 'file'],
    ['dir/', 'file'],
    ['', 'file'],
    ['__init__.py', '__init__.py'],
  ])('%j → %j', (raw, safe) => {
    expect(toSafeFileName(raw)).toBe(safe);
  });

  it('keeps the extension when shortening a long name', () => {
    const safe = toSafeFileName(`${'a'.repeat(300)}.log`);
    expect(safe.endsWith('.log')).toBe(true);
    expect(safe.length).toBeLessThanOrEqual(100);
  });

  it('never yields a name that leaves its folder, hides, or is empty (property, seeded)', () => {
    const seed = 4242;
    const pieces = fc.constantFrom(
      '..',
      '.',
      '/',
      '\\',
      'a',
      'b.txt',
      ' ',
      '\u0000',
      '-',
      '~',
      'é',
      '\u202E',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 12 }), (parts) => {
        const safe = toSafeFileName(parts.join(''));
        const folder = '/workspace/attachments/1';
        expect(safe).not.toBe('');
        expect(safe).not.toMatch(/[\\/]|\.\.|^[.\s-]/);
        expect(dirname(resolve(folder, safe))).toBe(folder);
      }),
      { seed, numRuns: 500 },
    );
  });
});

describe('attachmentPrompt and describeSize', () => {
  it('puts the caption first, then one Attached line per file; a stand-in when there is no text', () => {
    const saved = [
      { relativePath: 'attachments/7/shot.png', mimeType: 'image/png', sizeBytes: 126_000 },
      { relativePath: 'attachments/7/app.log', mimeType: 'text/plain', sizeBytes: 12 },
    ];
    expect(attachmentPrompt('why?', saved)).toBe(
      'why?\n\nAttached: attachments/7/shot.png (image/png, 123 KB)\nAttached: attachments/7/app.log (text/plain, 12 bytes)',
    );
    expect(attachmentPrompt('  ', saved.slice(0, 1)).split('\n')[0]).toBe('See the attached file(s).');
    expect(describeSize(3 * 1024 * 1024 + 200_000)).toBe('3.2 MB');
    // A task that may work elsewhere (a fork's own worktree, another project) is given the whole path.
    expect(attachmentPrompt('why?', saved.slice(1), '/srv/relay/agent_workspace')).toBe(
      'why?\n\nAttached: /srv/relay/agent_workspace/attachments/7/app.log (text/plain, 12 bytes)',
    );
  });

  it('/help mentions photos and files only when the relay takes them', () => {
    expect(helpText(ATTACHMENT_MAX_BYTES)).toContain('Photos and files (up to 20.0 MB each)');
    expect(helpText(null)).not.toContain('Photos');
  });
});

describe('saveAttachments', () => {
  let workspace: string;
  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'attachments-'));
  });
  afterEach(() => {
    rmSync(workspace, { recursive: true, force: true });
  });
  const save = (messageId: string, files: IncomingFile[], maxBytes = 1000) =>
    saveAttachments({ workspace, messageId, files, maxBytes, signal: new AbortController().signal, logger });

  it('saves every file under attachments/<message id>/ with safe, distinct names and the same bytes', async () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const result = await save('42', [
      file('../../etc/passwd', bytes('not really')),
      file('.bashrc', bytes('alias x=y')),
      file('notes.txt', bytes('one')),
      file('notes.txt', bytes('two')),
    ]);
    if (!result.ok) throw new Error(result.message);
    expect(result.saved.map((s) => s.relativePath)).toEqual([
      'attachments/42/passwd',
      'attachments/42/bashrc',
      'attachments/42/notes.txt',
      'attachments/42/notes-2.txt',
    ]);
    expect(readdirSync(join(workspace, 'attachments', '42')).sort()).toEqual(
      ['bashrc', 'notes-2.txt', 'notes.txt', 'passwd'].sort(),
    );
    expect(readFileSync(join(workspace, 'attachments/42/notes-2.txt'), 'utf8')).toBe('two');
    expect(readdirSync(workspace)).toEqual(['attachments']);
  });

  it('never overwrites a file already there (same message id from another chat)', async () => {
    await save('5', [file('a.txt', new Uint8Array([1]))]);
    const again = await save('5', [file('a.txt', new Uint8Array([2]))]);
    if (!again.ok) throw new Error(again.message);
    expect(again.saved[0]?.relativePath).toBe('attachments/5/a-2.txt');
    expect([...readFileSync(join(workspace, 'attachments/5/a.txt'))]).toEqual([1]);
  });

  it('refuses an over-size file by its declared size before downloading anything', async () => {
    const small = file('ok.txt', new Uint8Array(10));
    const big = file('big.bin', new Uint8Array(10), { declared: 5000 });
    const result = await save('9', [small, big]);
    expect(result).toMatchObject({ ok: false, kind: 'too_large' });
    if (result.ok) return;
    expect(result.message).toContain('big.bin');
    expect(result.message).toContain('Nothing was run');
    expect(small.downloads() + big.downloads()).toBe(0);
    expect(existsSync(join(workspace, 'attachments'))).toBe(false);
  });

  it('refuses a file whose bytes exceed the limit although its size was not declared', async () => {
    const result = await save('10', [file('sneaky.bin', new Uint8Array(2000), { declared: null })]);
    expect(result).toMatchObject({ ok: false, kind: 'too_large' });
    expect(existsSync(join(workspace, 'attachments'))).toBe(false);
  });

  it('writes nothing when one download of several fails', async () => {
    const result = await save('11', [
      file('first.txt', new Uint8Array(3)),
      file('second.txt', new Error('HTTP 500')),
    ]);
    expect(result).toMatchObject({ ok: false, kind: 'download_failed' });
    if (result.ok) return;
    expect(result.message).toContain('second.txt');
    expect(existsSync(join(workspace, 'attachments'))).toBe(false);
  });

  it('refuses to follow an attachments folder that is a symlink out of the workspace', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    try {
      symlinkSync(outside, join(workspace, 'attachments'));
      const result = await save('12', [file('x.txt', new Uint8Array(1))]);
      expect(result).toMatchObject({ ok: false, kind: 'save_failed' });
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
