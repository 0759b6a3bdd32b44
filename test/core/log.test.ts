import { describe, expect, it } from 'vitest';
import { createLogger, createScrubber, prettyLine, secretsInEnvironment } from '../../src/log.js';

function capture(pretty: boolean) {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    ['sk-very-secret-key', undefined, '123456:bot-token'],
    { write: (l) => lines.push(l) },
    { pretty },
  );
  return { logger, lines };
}

describe('logger', () => {
  it('scrubs every secret wherever it appears: message, nested field, error text', () => {
    const { logger, lines } = capture(false);
    logger.info(
      { url: 'https://api.telegram.org/bot123456:bot-token/getMe' },
      'calling with sk-very-secret-key',
    );
    logger.error({ err: new Error('auth failed for sk-very-secret-key') }, 'boom');
    logger.info({ config: { apiKey: 'anything' } }, 'config');
    const all = lines.join('');
    expect(all).not.toContain('sk-very-secret-key');
    expect(all).not.toContain('bot-token');
    expect(all).not.toContain('anything');
    expect(all).toContain('[redacted]');
  });

  it('writes one readable line per entry for a terminal, still scrubbed', () => {
    const { logger, lines } = capture(true);
    logger
      .child({ part: 'proxy' })
      .warn({ url: 'http://127.0.0.1:8082', key: 'sk-very-secret-key' }, 'proxy listening');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d WARN {2}\[proxy\] proxy listening {2}url=http:\/\/127\.0\.0\.1:8082 key=\[redacted\]\n$/,
    );
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text\n')).toBe('plain text\n');
  });
});

describe('scrubbing outside the logger', () => {
  it('blanks every secret and any URL password, whatever variable it came from', () => {
    const scrub = createScrubber(['nvapi-0123456789']);
    expect(scrub("NVIDIA_NIM_BASE_URL: must be an http(s) URL, got 'ftp://x/nvapi-0123456789'")).toBe(
      "NVIDIA_NIM_BASE_URL: must be an http(s) URL, got 'ftp://x/[redacted]'",
    );
    expect(scrub('at connect (postgres://relay:hunter2@db:5432/relay)')).toBe(
      'at connect (postgres://relay:[redacted]@db:5432/relay)',
    );
    expect(scrub('mail me at someone@example.org, see http://host/a@b')).toBe(
      'mail me at someone@example.org, see http://host/a@b',
    );
  });

  it('knows the environment secrets before any config is read, but not short values', () => {
    expect(
      secretsInEnvironment({
        TELEGRAM_BOT_TOKEN: '123456:ABCDEFGH',
        GATEWAY_API_KEYS: 'first-key-1234, second-key-5678',
        SOME_KEY: 'true',
        POSTGRES_PASSWORD: 'postgres',
        PORT: '8082',
        HOME: '/root/secret-home',
      }).sort(),
    ).toEqual(['123456:ABCDEFGH', 'first-key-1234', 'second-key-5678']);
  });
});
