import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastRole, messagesOf, textReply, toolCallReply } from '../fakes/openai-upstream.js';
import { CLAUDE_BIN, type Rig, runClaude, startRig } from './harness.js';
import { OLDER_CLI_VERSION, olderCli } from './older-cli.js';

// Both CLI versions the README names, through the proxy to a provider that wants its reasoning back with the
// tool calls it made (DeepSeek, Kimi: "reasoning_content … must be passed back"), as a strict scripted upstream.

let older: Awaited<ReturnType<typeof olderCli>> = { problem: 'not looked for yet' };
beforeAll(async () => {
  older = await olderCli();
}, 300_000);

describe(`Claude Code ${OLDER_CLI_VERSION}`, () => {
  it(`can be installed (${OLDER_CLI_VERSION}, from the npm registry or its cache)`, (context) => {
    if ('problem' in older && process.env.CI !== 'true') context.skip();
    expect(older).toHaveProperty('bin');
  });
});

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

for (const version of ['bundled', OLDER_CLI_VERSION] as const) {
  describe(`the CLI (${version}) with a provider that wants its reasoning back`, () => {
    it('sends the reasoning back with the tool call: the follow-up is accepted and the file is written', async (context) => {
      const bin = version === 'bundled' ? CLAUDE_BIN : 'bin' in older ? older.bin : null;
      if (bin === null) return context.skip();
      const result = await runClaude(rig.proxy.url, 'write kept.txt', {}, bin);
      expect(result.result).toBe('Wrote kept.txt.');
      expect(await readFile(join(result.cwd, 'kept.txt'), 'utf8')).toBe('kept\n');
    });
  });
}
