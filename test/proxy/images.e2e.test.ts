import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lastRole, messagesOf, textReply, toolCallReply, toolResults } from '../fakes/openai-upstream.js';
import { NEWER_CLI_VERSION, OLDER_CLI_VERSION, testedClis } from './cli-install.js';
import { type Rig, runClaude, startRig } from './harness.js';

// The Read tool on a PNG gives the model an image; a provider whose model cannot see refuses the request (400).

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let rig: Rig | undefined;
let dir: string | undefined;
afterEach(async () => {
  await rig?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  rig = undefined;
  dir = undefined;
});

const hasImage = (body: unknown) =>
  messagesOf(body).some(
    (m) => Array.isArray(m.content) && m.content.some((part) => part?.type === 'image_url'),
  );

async function readPicture(sees: boolean, bin: string) {
  dir = await mkdtemp(join(tmpdir(), 'relay-png-'));
  const picture = join(dir, 'pic.png');
  await writeFile(picture, PNG);
  rig = await startRig((req) => {
    if (lastRole(req.body) !== 'tool' && !toolResults(req.body).length) {
      return toolCallReply([{ name: 'Read', arguments: { file_path: picture } }]);
    }
    if (hasImage(req.body) && !sees) {
      return {
        kind: 'error',
        status: 400,
        body: { error: { message: 'Image input is not supported for this model' } },
      };
    }
    return textReply(`Got: ${toolResults(req.body).at(-1) ?? ''} | image: ${hasImage(req.body)}`);
  });
  return runClaude(rig.proxy.url, 'look at pic.png', {}, bin);
}

const imageCount = (body: unknown) =>
  messagesOf(body).reduce(
    (count, m) =>
      count + (Array.isArray(m.content) ? m.content.filter((part) => part?.type === 'image_url').length : 0),
    0,
  );

/** Two pictures read in one turn, from a deployment that takes one image per request (vLLM's wording). */
async function readTwoPictures(bin: string) {
  dir = await mkdtemp(join(tmpdir(), 'relay-png-'));
  const [first, second] = [join(dir, 'one.png'), join(dir, 'two.png')];
  await writeFile(first, PNG);
  await writeFile(second, PNG);
  rig = await startRig((req) => {
    if (lastRole(req.body) !== 'tool' && !toolResults(req.body).length) {
      return toolCallReply([
        { name: 'Read', arguments: { file_path: first } },
        { name: 'Read', arguments: { file_path: second } },
      ]);
    }
    if (imageCount(req.body) > 1) {
      return {
        kind: 'error',
        status: 400,
        body: { error: { message: 'At most 1 image(s) may be provided in one request.' } },
      };
    }
    return textReply(`images: ${imageCount(req.body)}`);
  });
  return runClaude(rig.proxy.url, 'look at both pictures', {}, bin);
}

for (const { name, bin } of testedClis([OLDER_CLI_VERSION, NEWER_CLI_VERSION]))
  describe(`an image in a tool result (CLI ${name})`, () => {
    it('reaches a model that sees, as an image', async (context) => {
      const cli = bin();
      if (cli === null) return context.skip();
      const result = await readPicture(true, cli);
      expect(result.result).toMatch(/image: true$/);
    });

    it('becomes a note for a model that refuses images: the request goes again with the note, and the answer arrives', async (context) => {
      const cli = bin();
      if (cli === null) return context.skip();
      const result = await readPicture(false, cli);
      expect(result.isError).toBe(false);
      expect(result.result).toContain('[image omitted: the model cannot read images]');
      expect(result.result).toMatch(/image: false$/);
      // Only the refused request carried the image; its retry went with the note.
      expect(rig?.upstream.requests.filter((r) => hasImage(r.body))).toHaveLength(1);
    });

    it('past a per-request image limit, the latest images go and the answer arrives', async (context) => {
      const cli = bin();
      if (cli === null) return context.skip();
      const result = await readTwoPictures(cli);
      expect(result.isError).toBe(false);
      expect(result.result).toBe('images: 1');
      expect(rig?.upstream.requests.map((r) => imageCount(r.body))).toEqual([0, 2, 1]);
    });
  });
