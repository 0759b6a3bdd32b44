import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRole, messagesOf, textReply, toolCallReply } from '../fakes/openai-upstream.js';
import { installedCli, NEWER_CLI_VERSION, OLDER_CLI_VERSION, testedClis } from './cli-install.js';
import { type Rig, runClaude, startRig } from './harness.js';

// Every CLI version the README names, through the proxy to a provider that wants its reasoning back with the
// tool calls it made (DeepSeek, Kimi: "reasoning_content … must be passed back"), as a strict scripted upstream.

for (const version of [OLDER_CLI_VERSION, NEWER_CLI_VERSION])
  describe(`Claude Code ${version}`, () => {
    it(`can be installed (${version}, from the npm registry or its cache)`, async (context) => {
      const cli = await installedCli(version);
      if ('problem' in cli && process.env.CI !== 'true') context.skip();
      expect(cli).toHaveProperty('bin');
    }, 300_000);
  });

const CLIS = testedClis([OLDER_CLI_VERSION, NEWER_CLI_VERSION]);

let rig: Rig;
beforeAll(async () => {
  rig = await startRig((req) => {
    if (lastRole(req.body) !== 'tool') {
      return toolCallReply([{ name: 'Write', arguments: { file_path: 'kept.txt', content: 'kept\n' } }], {
        reasoning: 'The user wants kept.txt; I will write it.',
      });
    }
    // A strict provider: the assistant turn with tool calls must carry the reasoning it came with.
    const turn = messagesOf(req.body).findLast((message) => Array.isArray(message.tool_calls));
    if (turn?.reasoning_content !== 'The user wants kept.txt; I will write it.') {
      return {
        kind: 'error',
        status: 400,
        body: { error: { message: 'reasoning_content must be passed back' } },
      };
    }
    return textReply('Wrote kept.txt.');
  });
});
afterAll(async () => {
  await rig?.close();
});

for (const cli of CLIS) {
  describe(`the CLI (${cli.name}) with a provider that wants its reasoning back`, () => {
    it('sends the reasoning back with the tool call: the follow-up is accepted and the file is written', async (context) => {
      const bin = cli.bin();
      if (bin === null) return context.skip();
      const result = await runClaude(rig.proxy.url, 'write kept.txt', {}, bin);
      expect(result.result).toBe('Wrote kept.txt.');
      expect(await readFile(join(result.cwd, 'kept.txt'), 'utf8')).toBe('kept\n');
    });
  });
}
