import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { PROVIDERS } from '../../src/providers.js';
import { isRecord, type Json } from '../../src/proxy/anthropic-types.js';
import { startProxy } from '../../src/proxy/index.js';
import { type OpenAiMessage, toOpenAiRequest } from '../../src/proxy/request-to-openai.js';
import { detectShortcut } from '../../src/proxy/shortcuts.js';
import { startFakeUpstream, textReply } from '../fakes/openai-upstream.js';
import { REFERENCE_DIR } from '../shared-dir.js';

// Every /v1/messages request recorded from CLI 2.1.197 and 2.1.330 (read in place from ../shared/reference)
// converts into an OpenAI request a strict provider accepts.

const REFERENCE = REFERENCE_DIR;
const VERSIONS = ['claude-cli-2.1.197', 'claude-cli-2.1.330'];

function recorded(): Array<{ name: string; path: string; body: Json }> {
  const out: Array<{ name: string; path: string; body: Json }> = [];
  for (const version of VERSIONS) {
    const files = readdirSync(join(REFERENCE, version, 'full')).map((f) => join(version, 'full', f));
    for (const run of readdirSync(join(REFERENCE, version, 'runs'))) {
      let requests: string[] = [];
      try {
        requests = readdirSync(join(REFERENCE, version, 'runs', run, 'requests'));
      } catch {
        continue;
      }
      files.push(
        ...requests.filter((f) => f.endsWith('.json')).map((f) => join(version, 'runs', run, 'requests', f)),
      );
    }
    for (const file of files) {
      const value: unknown = JSON.parse(readFileSync(join(REFERENCE, file), 'utf8'));
      if (!isRecord(value) || !isRecord(value.body) || typeof value.path !== 'string') continue;
      if (!value.path.startsWith('/v1/messages')) continue;
      const body = { ...value.body };
      // The recorder stores each distinct tools array once (README of the recordings): load it back.
      if (isRecord(body.tools) && typeof body.tools.$shared_tools === 'string') {
        body.tools = JSON.parse(readFileSync(join(REFERENCE, version, body.tools.$shared_tools), 'utf8'));
      }
      out.push({ name: file, path: value.path, body });
    }
  }
  return out;
}

const requests = recorded();
const messagesRequests = requests.filter((r) => !r.path.includes('count_tokens'));
const flags = {
  fastPrefixDetection: true,
  networkProbeMock: true,
  titleGenerationSkip: true,
  suggestionModeSkip: true,
  filepathExtractionMock: true,
};

function schemaKeys(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) schemaKeys(item, found);
  else if (isRecord(value)) {
    for (const [key, sub] of Object.entries(value)) {
      if (key !== 'properties') found.add(key);
      schemaKeys(sub, found);
    }
  }
  return found;
}

describe('recorded CLI requests → OpenAI', () => {
  it('found recordings of both versions', () => {
    for (const version of VERSIONS)
      expect(messagesRequests.some((r) => r.name.startsWith(version))).toBe(true);
    expect(messagesRequests.length).toBeGreaterThan(100);
  });

  it.each(['nvidia_nim', 'open_router', 'lmstudio'] as const)('every request is valid for %s', (id) => {
    const provider = PROVIDERS[id];
    for (const { name, body } of messagesRequests) {
      const { body: out } = toOpenAiRequest(body, { provider, model: 'm', stream: true });
      const messages = out.messages as OpenAiMessage[];
      const where = `${name} (${id})`;
      // One leading system message at most; system-role entries (even last) are folded into it.
      expect(
        messages.slice(1).every((m) => m.role !== 'system'),
        where,
      ).toBe(true);
      expect(messages.at(-1)?.role, where).not.toBe('system');
      // Every tool call is answered right after it, and every tool message answers a call.
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (message?.role !== 'assistant' || !message.tool_calls) continue;
        const ids = message.tool_calls.map((c) => c.id);
        const answers = messages.slice(i + 1, i + 1 + ids.length);
        expect(
          answers.map((m) => (m.role === 'tool' ? m.tool_call_id : m.role)),
          where,
        ).toEqual(ids);
      }
      expect(messages.filter((m) => m.role === 'tool').length, where).toBe(
        messages.reduce((n, m) => n + (m.role === 'assistant' ? (m.tool_calls?.length ?? 0) : 0), 0),
      );
      if (typeof out.max_tokens === 'number')
        expect(out.max_tokens, where).toBeLessThanOrEqual(provider.maxOutputTokens);
      const tools = Array.isArray(out.tools) ? out.tools : [];
      expect(JSON.stringify(tools), where).not.toContain('DeferredToolPlaceholder');
      expect(JSON.stringify(tools), where).not.toContain('defer_loading');
      for (const keyword of provider.schemaKeywordsToStrip)
        expect(schemaKeys(tools).has(keyword), where).toBe(false);
      expect(JSON.stringify(out), where).not.toContain('"cache_control"');
      expect(out.stream_options).toEqual({ include_usage: true });
    }
  });

  it('turns a ToolSearch tool_reference into text the model can read (2.1.330)', () => {
    const request = messagesRequests.find((r) =>
      r.name.endsWith('main-turn-after-toolsearch-tool_reference.json'),
    );
    expect(request).toBeDefined();
    const { body } = toOpenAiRequest(request?.body ?? {}, {
      provider: PROVIDERS.nvidia_nim,
      model: 'm',
      stream: true,
    });
    const messages = body.messages as OpenAiMessage[];
    expect(messages.find((m) => m.role === 'tool')?.content).toBe('Tool loaded: WebFetch');
    const names = (body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name);
    expect(names).toContain('WebFetch');
    expect(names).not.toContain('DeferredToolPlaceholder');
  });

  it('keeps the 2.1.330 trailing system message (environment) in the system prompt', () => {
    const request = messagesRequests.find((r) =>
      r.name.endsWith('2.1.330/full/main-turn-print-mode-authtoken.json'),
    );
    const { body } = toOpenAiRequest(request?.body ?? {}, {
      provider: PROVIDERS.lmstudio,
      model: 'm',
      stream: false,
    });
    const messages = body.messages as OpenAiMessage[];
    expect(messages[0]?.role).toBe('system');
    expect(String(messages[0]?.content)).toContain('# Environment');
    expect(messages.at(-1)?.role).toBe('user');
    expect(body.max_tokens).toBe(32_000); // the CLI asked for 128000
    expect(body.stream).toBe(false);
  });

  it('replays past thinking as reasoning_content or as <think> text, by provider', () => {
    const history: Json = {
      model: 'x',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'ponder', signature: 's' },
            { type: 'text', text: 'yo' },
          ],
        },
        { role: 'user', content: 'again' },
      ],
    };
    const nim = toOpenAiRequest(history, { provider: PROVIDERS.nvidia_nim, model: 'm', stream: true }).body;
    expect((nim.messages as OpenAiMessage[])[1]).toEqual({
      role: 'assistant',
      content: 'yo',
      reasoning_content: 'ponder',
    });
    const lm = toOpenAiRequest(history, { provider: PROVIDERS.lmstudio, model: 'm', stream: true }).body;
    expect((lm.messages as OpenAiMessage[])[1]).toEqual({
      role: 'assistant',
      content: '<think>\nponder\n</think>\n\nyo',
    });
  });
});

describe('local short-cuts on recorded requests', () => {
  it('answers the title calls of both versions with the JSON they ask for', () => {
    const titles = messagesRequests.filter((r) => r.name.includes('title-generation'));
    expect(titles.length).toBeGreaterThanOrEqual(3);
    for (const { name, body } of titles) {
      const shortcut = detectShortcut(body, flags);
      expect(shortcut?.kind, name).toBe('title');
      expect(JSON.parse(shortcut?.text ?? '')).toHaveProperty('title');
    }
  });

  it('never intercepts a main turn, a sub-agent turn or a compaction', () => {
    const real = messagesRequests.filter((r) => Array.isArray(r.body.tools) && r.body.tools.length > 0);
    expect(real.length).toBeGreaterThan(50);
    for (const { name, body } of real) expect(detectShortcut(body, flags), name).toBeNull();
  });

  it('leaves the title call to the provider when its switch is off', () => {
    const title = messagesRequests.find((r) => r.name.includes('title-generation'));
    expect(detectShortcut(title?.body ?? {}, { ...flags, titleGenerationSkip: false })).toBeNull();
  });

  it("the current CLI's title call is answered by the real proxy without a provider request", async () => {
    const title = messagesRequests.find(
      (r) => r.name.startsWith('claude-cli-2.1.330') && r.name.includes('title'),
    );
    expect(title, 'a recorded 2.1.330 title call').toBeDefined();
    const upstream = await startFakeUpstream(() => textReply('from the provider'));
    const proxy = await startProxy({
      config: loadConfig({ PORT: '0', PROVIDER_TYPE: 'openai', OPENAI_BASE_URL: upstream.url, MODEL: 'm' })
        .proxy,
      logger: createLogger('silent', []),
    });
    try {
      const response = await fetch(`${proxy.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...title?.body, stream: false }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { content: Array<{ text: string }> };
      expect(JSON.parse(body.content[0]?.text ?? '')).toHaveProperty('title');
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });

  it('the four retired switches, on, intercept nothing: those calls go to the provider', () => {
    const shapes: Json[] = [
      { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'quota' }] },
      {
        model: 'm',
        max_tokens: 64,
        messages: [{ role: 'user', content: '<policy_spec>…</policy_spec>\nCommand: git status' }],
      },
      {
        model: 'm',
        max_tokens: 64,
        messages: [{ role: 'user', content: '[SUGGESTION MODE: suggest what the user might type next]' }],
      },
      {
        model: 'm',
        max_tokens: 64,
        system: 'Extract any file paths that this command reads or modifies.',
        messages: [{ role: 'user', content: 'Command: cat a.txt\nOutput: hello\n<filepaths>' }],
      },
    ];
    for (const shape of shapes) expect(detectShortcut(shape, flags), JSON.stringify(shape)).toBeNull();
    expect(
      loadConfig({ FAST_PREFIX_DETECTION: 'true', ENABLE_NETWORK_PROBE_MOCK: 'false' }).proxy.shortcuts,
    ).toMatchObject({
      fastPrefixDetection: true,
      networkProbeMock: false,
    });
  });
});
