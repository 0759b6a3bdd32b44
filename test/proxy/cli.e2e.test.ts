import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  lastRole,
  messagesOf,
  type Script,
  textReply,
  toolCallReply,
  type UpstreamReply,
} from '../fakes/openai-upstream.js';
import { NEWER_CLI_VERSION, OLDER_CLI_VERSION, testedClis } from './cli-install.js';
import { CLAUDE_BIN, type Rig, runClaude, startRig } from './harness.js';
import { startTap } from './tap.js';

// The real `claude` CLI, through the proxy, to a scripted OpenAI-compatible upstream: what a user sees.

let rig: Rig | undefined;
let tap: Awaited<ReturnType<typeof startTap>> | undefined;
afterEach(async () => {
  await tap?.close();
  await rig?.close();
  tap = undefined;
  rig = undefined;
});

/** The CLI the tests of the current describe run (each version the README names, in turn). */
let cliBin = CLAUDE_BIN;

async function run(script: Script, prompt: string, env: Record<string, string> = {}) {
  rig = await startRig(script);
  tap = await startTap(rig.proxy.url);
  return runClaude(tap.url, prompt, env, cliBin);
}

function thinkingTexts(lines: Array<Record<string, unknown>>): string[] {
  const texts: string[] = [];
  for (const line of lines) {
    const message = line.message as { content?: Array<{ type?: string; thinking?: string }> } | undefined;
    if (line.type !== 'assistant' || !Array.isArray(message?.content)) continue;
    for (const block of message.content) if (block.type === 'thinking') texts.push(block.thinking ?? '');
  }
  return texts;
}

function contentChunks(parts: string[], finish = 'stop'): UpstreamReply {
  const base = { id: 'chatcmpl-split', object: 'chat.completion.chunk', created: 1, model: 'fake-model' };
  return {
    kind: 'stream',
    chunks: [
      ...parts.map((content) => ({
        ...base,
        choices: [{ index: 0, delta: { content }, finish_reason: null }],
      })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] },
    ],
  };
}

for (const cli of testedClis([OLDER_CLI_VERSION, NEWER_CLI_VERSION]))
  describe(`the real CLI (${cli.name}) through the proxy`, () => {
    beforeEach((context) => {
      const bin = cli.bin();
      if (bin === null) context.skip();
      else cliBin = bin;
    });

    it('shows a plain streamed answer as the result', async () => {
      const result = await run(() => textReply('Hello from the free model.', { chunkSize: 3 }), 'say hello');
      expect(result.result).toBe('Hello from the free model.');
      expect(result.exitCode).toBe(0);
      expect(tap?.assertStreams()).toBe(1);
    });

    it("reports the provider's cached prompt tokens as cache reads, the rest as input", async () => {
      const result = await run(() => textReply('Cached answer.', { cachedTokens: 30 }), 'say it');
      expect(result.result).toBe('Cached answer.');
      const final = result.lines.find((line) => line.type === 'result');
      expect(final?.usage).toMatchObject({ input_tokens: 12, cache_read_input_tokens: 30 });
      tap?.assertStreams();
    });

    it('shows reasoning_content as thinking and the answer as text', async () => {
      const result = await run(
        () => textReply('The answer is 4.', { reasoning: 'Two plus two is four.' }),
        'what is 2+2',
      );
      expect(result.result).toBe('The answer is 4.');
      expect(thinkingTexts(result.lines).join('')).toBe('Two plus two is four.');
      tap?.assertStreams();
    });

    it('turns <think> tags split across chunks into thinking, never into visible text', async () => {
      const result = await run(
        () => contentChunks(['<thi', 'nk>plan', 'ning</th', 'ink>The ans', 'wer is 42.']),
        'what is the answer',
      );
      expect(result.result).toBe('The answer is 42.');
      expect(thinkingTexts(result.lines).join('')).toBe('planning');
      tap?.assertStreams();
    });

    it('runs a Write tool call whose arguments arrive in fragments: the file exists afterwards', async () => {
      const result = await run(
        (req) =>
          lastRole(req.body) === 'tool'
            ? textReply('Created hello.txt.')
            : toolCallReply(
                [{ name: 'Write', arguments: { file_path: 'hello.txt', content: 'hi there\n' } }],
                {
                  fragments: 7,
                  text: 'Writing the file.',
                },
              ),
        'create hello.txt containing hi there',
      );
      expect(await readFile(join(result.cwd, 'hello.txt'), 'utf8')).toBe('hi there\n');
      expect(result.result).toBe('Created hello.txt.');
      expect(tap?.assertStreams()).toBe(2);
    });

    for (const layout of ['interleaved', 'one_chunk'] as const) {
      it(`runs every one of several tool calls sent ${layout.replace('_', ' ')}, each with its whole input`, async () => {
        const files = {
          'first.txt': 'the first file, long enough to be cut in several fragments\n',
          'second.txt': 'the second file, also long enough to arrive in pieces\n',
          'third.txt': 'a third: "quotes", \\ backslashes and ünïcode\n',
        };
        const result = await run(
          (req) =>
            lastRole(req.body) === 'tool'
              ? textReply('Wrote all three.')
              : toolCallReply(
                  Object.entries(files).map(([file_path, content]) => ({
                    name: 'Write',
                    arguments: { file_path, content },
                  })),
                  { fragments: 6, layout, text: 'Writing three files.' },
                ),
          'write three files',
        );
        for (const [name, content] of Object.entries(files)) {
          expect(await readFile(join(result.cwd, name), 'utf8')).toBe(content);
        }
        expect(result.result).toBe('Wrote all three.');
        expect(tap?.assertStreams()).toBe(2);
      });
    }

    it('runs a tool call the model printed as text', async () => {
      const printed =
        'I will write it.\n<function=Write>\n<parameter=file_path>\nnotes.txt\n</parameter>\n<parameter=content>\nfrom text\n</parameter>\n</function>';
      const result = await run(
        (req) =>
          lastRole(req.body) === 'tool'
            ? textReply('Done.')
            : contentChunks(printed.match(/.{1,5}/gs) ?? [], 'stop'),
        'write notes.txt',
      );
      expect(await readFile(join(result.cwd, 'notes.txt'), 'utf8')).toBe('from text');
      expect(result.result).toBe('Done.');
      tap?.assertStreams();
    });

    it('a Mistral model, which takes only nine-letter tool-call ids, gets every id in that form, the same each time', async () => {
      const nine = /^[A-Za-z0-9]{9}$/;
      rig = await startRig(
        (req) => {
          if (lastRole(req.body) !== 'tool') {
            // An id in another provider's form (or one the relay made up) on the way in.
            return toolCallReply([
              { name: 'Write', arguments: { file_path: 'm.txt', content: 'nine\n' }, id: 'call_0001' },
            ]);
          }
          const messages = messagesOf(req.body);
          const called = messages.flatMap((m) => (Array.isArray(m.tool_calls) ? m.tool_calls : []));
          const answered = messages.filter((m) => m.role === 'tool').map((m) => String(m.tool_call_id));
          const ids = [...called.map((call: { id?: unknown }) => String(call.id)), ...answered];
          const wrong = ids.find((id) => !nine.test(id));
          if (wrong !== undefined || answered[0] !== ids[0]) {
            return {
              kind: 'error',
              status: 400,
              body: { message: `Tool call id was ${wrong} but must be a-z, A-Z, 0-9, with a length of 9.` },
            };
          }
          return textReply('Wrote m.txt.');
        },
        { MODEL: 'devstral-small-2507' },
      );
      const result = await runClaude(rig.proxy.url, 'write m.txt', {}, cliBin);
      expect(result.result).toBe('Wrote m.txt.');
      expect(await readFile(join(result.cwd, 'm.txt'), 'utf8')).toBe('nine\n');
    });

    it('waits out an upstream 429 and then answers', async () => {
      const result = await run(
        (req) =>
          req.index === 0
            ? {
                kind: 'error',
                status: 429,
                headers: { 'retry-after': '0' },
                body: { error: { message: 'slow down' } },
              }
            : textReply('Answer after the rate limit.'),
        'hello',
      );
      expect(result.result).toBe('Answer after the rate limit.');
      expect(rig?.upstream.requests).toHaveLength(2);
      expect(rig?.proxy.stats().providers[0]).toMatchObject({ provider: 'openai', rateLimited: 1 });
      tap?.assertStreams();
    });

    it('recovers when the upstream stream breaks mid-way (the CLI retries and gets the answer)', async () => {
      const result = await run(
        (req) =>
          req.index === 0
            ? { ...textReply('This answer will be cut off somewhere.', { chunkSize: 4 }), breakAfter: 3 }
            : textReply('Complete answer on retry.'),
        'hello',
      );
      expect(result.result).toBe('Complete answer on retry.');
      expect(rig?.upstream.requests.length).toBeGreaterThanOrEqual(2);
      tap?.assertStreams({ allowError: true });
    });

    it('explains an upstream 500 to the user', async () => {
      const result = await run(
        () => ({ kind: 'error', status: 500, body: { error: { message: 'model crashed loading weights' } } }),
        'hello',
        { CLAUDE_CODE_MAX_RETRIES: '1' },
      );
      expect(result.isError).toBe(true);
      expect(result.result).toContain('model crashed loading weights');
      expect(result.exitCode).toBe(1);
    });
  });
