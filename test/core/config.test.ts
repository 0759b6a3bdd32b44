import { describe, expect, it } from 'vitest';
import { PLATFORMS } from '../../platforms/index.js';
import { ConfigError, loadConfig, missingKeyWarnings } from '../../src/config.js';

const cwd = '/srv/relay';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, cwd, PLATFORMS);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({}, cwd);
    expect(config.proxy.host).toBe('127.0.0.1');
    expect(config.proxy.port).toBe(8082);
    expect(config.proxy.models.default.provider).toBe('nvidia_nim');
    expect(config.proxy.rateLimit).toEqual({ requests: 40, windowMs: 60_000, maxConcurrency: 5 });
    expect(config.proxy.timeouts).toEqual({ readMs: 300_000, writeMs: 10_000, connectMs: 10_000 });
    expect(config.messaging.platforms).toEqual([]);
    expect(config.sessions.workspace).toBe('/srv/relay/agent_workspace');
    expect(config.sessions.maxSessions).toBe(10);
    expect(config.sessions.idleTimeoutMs).toBe(600_000);
    expect(config.sessions.permissions).toBe('skip');
    expect(config.sessions.permissionTimeoutMs).toBe(300_000);
    expect(config.voice.modelDir).toBe('/srv/relay/models');
  });

  it('routes a prefixed MODEL and per-tier overrides to their providers', () => {
    const config = loadConfig(
      {
        PROVIDER_TYPE: 'nvidia_nim',
        MODEL: 'open_router/deepseek/deepseek-r1:free',
        MODEL_HAIKU: 'lmstudio/qwen2.5-coder',
        MODEL_OPUS: 'meta/llama3-70b-instruct',
      },
      cwd,
    );
    expect(config.proxy.models.default).toEqual({
      provider: 'open_router',
      model: 'deepseek/deepseek-r1:free',
    });
    expect(config.proxy.models.sonnet).toEqual(config.proxy.models.default);
    expect(config.proxy.models.haiku).toEqual({ provider: 'lmstudio', model: 'qwen2.5-coder' });
    expect(config.proxy.models.opus).toEqual({ provider: 'nvidia_nim', model: 'meta/llama3-70b-instruct' });
  });

  it("reads fallbacks for every tier, or a tier's own, and when to use them", () => {
    const config = loadConfig(
      {
        NVIDIA_NIM_API_KEY: 'nvapi-test',
        MODEL_FALLBACKS: 'open_router/deepseek/deepseek-r1:free, lmstudio/qwen2.5-coder',
        MODEL_HAIKU_FALLBACKS: 'llamacpp/small',
        PROVIDER_FALLBACK_AFTER: '45',
      },
      cwd,
    ).proxy;
    const everyTier = [
      { provider: 'open_router', model: 'deepseek/deepseek-r1:free' },
      { provider: 'lmstudio', model: 'qwen2.5-coder' },
    ];
    expect(config.fallbacks).toEqual({
      default: everyTier,
      opus: everyTier,
      sonnet: everyTier,
      haiku: [{ provider: 'llamacpp', model: 'small' }],
    });
    expect(config.fallbackAfterMs).toBe(45_000);
    expect(loadConfig({}, cwd).proxy.fallbacks.default).toEqual([]);
    expect(configError({ MODEL_OPUS_FALLBACKS: 'open_router/' }).message).toBe(
      "MODEL_OPUS_FALLBACKS: names provider 'open_router' but no model after the '/'",
    );
    // A fallback on a provider without its key is warned about at start, like a tier's own model.
    expect(missingKeyWarnings(config).join('\n')).toContain('OPENROUTER_API_KEY is not set');
  });

  it("reads the largest max_tokens for every tier, or a tier's own", () => {
    const config = loadConfig(
      { MODEL_MAX_OUTPUT_TOKENS: '8192', MODEL_HAIKU_MAX_OUTPUT_TOKENS: '4096' },
      cwd,
    ).proxy;
    expect(config.maxOutputTokens).toEqual({ default: 8192, opus: 8192, sonnet: 8192, haiku: 4096 });
    expect(loadConfig({}, cwd).proxy.maxOutputTokens.opus).toBeUndefined();
    expect(configError({ MODEL_MAX_OUTPUT_TOKENS: '8k' }).message).toBe(
      "MODEL_MAX_OUTPUT_TOKENS: must be a whole number from 1 to 10000000, got '8k'",
    );
  });

  it('enables a platform only when its token is set, unless MESSAGING_PLATFORM says otherwise', () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: '123:abc' }, cwd, PLATFORMS).messaging.platforms).toEqual([
      'telegram',
    ]);
    expect(
      loadConfig(
        { TELEGRAM_BOT_TOKEN: '123:abc', DISCORD_BOT_TOKEN: 'x.y.z', MESSAGING_PLATFORM: 'none' },
        cwd,
        PLATFORMS,
      ).messaging.platforms,
    ).toEqual([]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', /whole number from 0 to 65535, got 'abc'/],
    [
      { PROVIDER_TYPE: 'gemini' },
      'PROVIDER_TYPE',
      /one of nvidia_nim, open_router, lmstudio, llamacpp, openai, anthropic/,
    ],
    [{ MESSAGING_PLATFORM: 'slack' }, 'MESSAGING_PLATFORM', /got 'slack'/],
    [{ MESSAGING_PLATFORM: 'discord' }, 'DISCORD_BOT_TOKEN', /required/],
    [{ PROVIDER_TYPE: 'openai', MODEL: 'llama3' }, 'OPENAI_BASE_URL', /required/],
    [{ VOICE_NOTE_ENABLED: 'maybe' }, 'VOICE_NOTE_ENABLED', /true or false/],
    [
      { TELEGRAM_BOT_TOKEN: 't', ALLOWED_TELEGRAM_USER_ID: '12,abc' },
      'ALLOWED_TELEGRAM_USER_ID',
      /numeric ids/,
    ],
    [{ NVIDIA_NIM_BASE_URL: 'ftp://x' }, 'NVIDIA_NIM_BASE_URL', /http\(s\) URL/],
    [{ MODEL: 'open_router/' }, 'MODEL', /no model/],
    [{ CLAUDE_PERMISSIONS: 'always' }, 'CLAUDE_PERMISSIONS', /one of skip, ask/],
  ])('rejects %j with one line naming %s', (env, variable, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

describe('HOST', () => {
  it('a HOST other machines can reach needs PROXY_AUTH_TOKEN; loopback does not', () => {
    for (const host of ['0.0.0.0', '192.168.1.20', '::', 'relay.example.org']) {
      const error = configError({ HOST: host });
      expect(error.variable).toBe('PROXY_AUTH_TOKEN');
      expect(error.message).toBe(
        `PROXY_AUTH_TOKEN: is required because HOST=${host} is reachable from other machines: set a long random token (the relay's own sessions get it automatically), or HOST=127.0.0.1`,
      );
    }
    expect(loadConfig({ HOST: '0.0.0.0', PROXY_AUTH_TOKEN: 'a-long-random-token' }, cwd).proxy.host).toBe(
      '0.0.0.0',
    );
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])
      expect(loadConfig({ HOST: host }, cwd).proxy.host).toBe(host);
  });
});

describe('llama.cpp', () => {
  it('llamacpp/… routes to llama-server (LLAMACPP_BASE_URL), never to the default provider', () => {
    const config = loadConfig({ MODEL_HAIKU: 'llamacpp/qwen2.5-coder-7b' }, cwd).proxy;
    expect(config.models.haiku).toEqual({ provider: 'llamacpp', model: 'qwen2.5-coder-7b' });
    expect(config.providers.llamacpp.baseUrl).toBe('http://localhost:8080/v1');
    expect(
      loadConfig({ PROVIDER_TYPE: 'llamacpp', LLAMACPP_BASE_URL: 'http://10.0.0.5:9000/v1/' }, cwd).proxy
        .providers.llamacpp.baseUrl,
    ).toBe('http://10.0.0.5:9000/v1');
  });
});

describe('API gateway', () => {
  it('is off without GATEWAY_PORT; on, it has the documented defaults', () => {
    expect(loadConfig({}, cwd).gateway).toBeUndefined();
    expect(loadConfig({ GATEWAY_PORT: '8083' }, cwd).gateway).toEqual({
      port: 8083,
      apiKeys: [],
      queueMax: 20,
      queueTimeoutMs: 60_000,
      runTimeoutMs: 600_000,
      maxBodyBytes: 4 * 1024 * 1024,
      stream: 'final',
      maxTurns: undefined,
      workspace: undefined,
      prestart: 1,
    });
    expect(loadConfig({ GATEWAY_PORT: '8083', GATEWAY_WORKSPACE: 'api-work' }, cwd).gateway?.workspace).toBe(
      '/srv/relay/api-work',
    );
  });

  it('reachable from other machines it needs keys; bad values get one line naming the variable', () => {
    expect(
      configError({ GATEWAY_PORT: '8083', HOST: '0.0.0.0', PROXY_AUTH_TOKEN: 'a-long-token' }).message,
    ).toMatch(/^GATEWAY_API_KEYS: is required because HOST=0\.0\.0\.0 is reachable from other machines/);
    expect(configError({ GATEWAY_PORT: '8083', GATEWAY_STREAM: 'some' }).message).toBe(
      "GATEWAY_STREAM: must be one of final, all, got 'some'",
    );
    expect(configError({ GATEWAY_PORT: '8082' }).message).toBe(
      'GATEWAY_PORT: must differ from PORT (8082): the proxy listens there',
    );
    expect(configError({ GATEWAY_PORT: '8083', CLAUDE_PERMISSIONS: 'ask' }).message).toMatch(
      /^CLAUDE_PERMISSIONS: cannot be ask while the API gateway is on/,
    );
    expect(configError({ GATEWAY_PORT: 'http' }).message).toBe(
      "GATEWAY_PORT: must be a whole number from 0 to 65535, got 'http'",
    );
    expect(configError({ GATEWAY_PORT: '8083', GATEWAY_PRESTART: '50' }).message).toBe(
      "GATEWAY_PRESTART: must be a whole number from 0 to 10, got '50'",
    );
    expect(loadConfig({ GATEWAY_PORT: '8083', GATEWAY_PRESTART: '0' }, '/srv').gateway?.prestart).toBe(0);
  });

  it('reads projects: PROJECTS by name, else ALLOWED_DIR as the working directory, else the workspace', () => {
    expect(loadConfig({}, cwd).sessions.projects).toEqual([
      { name: 'agent_workspace', path: '/srv/relay/agent_workspace' },
    ]);
    const allowed = loadConfig({ ALLOWED_DIR: '/home/me/app, /home/me/lib' }, cwd).sessions;
    expect(allowed.projects).toEqual([{ name: 'app', path: '/home/me/app' }]);
    expect(allowed.allowedDirs).toEqual(['/home/me/app', '/home/me/lib']);
    expect(
      loadConfig({ PROJECTS: 'api=/srv/api, web=../web', ALLOWED_DIR: '/x' }, cwd).sessions.projects,
    ).toEqual([
      { name: 'api', path: '/srv/api' },
      { name: 'web', path: '/srv/web' },
    ]);
    expect(configError({ PROJECTS: 'api' }).message).toBe(
      "PROJECTS: each entry must be name=path with a name of letters, digits, . _ or -, got 'api'",
    );
    expect(configError({ PROJECTS: 'my api=/srv' }).variable).toBe('PROJECTS');
    expect(configError({ PROJECTS: 'api=/a,API=/b' }).message).toBe(
      "PROJECTS: the name 'API' is given twice",
    );
  });

  it('reads the worktree settings, refusing what they do not allow', () => {
    expect(loadConfig({}, cwd).sessions).toMatchObject({
      worktrees: 'auto',
      mergeStyle: 'squash',
      worktreeTtlDays: 14,
    });
    expect(
      loadConfig({ WORKTREES: 'off', MERGE_STYLE: 'merge', WORKTREE_TTL: '3' }, cwd).sessions,
    ).toMatchObject({ worktrees: 'off', mergeStyle: 'merge', worktreeTtlDays: 3 });
    expect(configError({ WORKTREES: 'yes' }).variable).toBe('WORKTREES');
    expect(configError({ MERGE_STYLE: 'rebase' }).variable).toBe('MERGE_STYLE');
    expect(configError({ WORKTREE_TTL: '0' }).variable).toBe('WORKTREE_TTL');
  });
});
