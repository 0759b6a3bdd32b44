import { type Logger, pino } from 'pino';

export type { Logger };

/** Minimal writable the logger needs; tests pass an in-memory sink to grep what was logged. */
export interface LogSink {
  write(line: string): void;
}

/**
 * A pino logger whose every serialized line is scrubbed of the given secrets (bot tokens, provider keys, the
 * proxy token), wherever they appear: message, error text, URL or nested field.
 */
export function createLogger(
  level: string,
  secrets: ReadonlyArray<string | undefined>,
  sink?: LogSink,
): Logger {
  const out = sink ?? process.stdout;
  const needles = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))]
    // Longest first so a token containing another secret is replaced whole.
    .sort((a, b) => b.length - a.length);
  const destination = {
    write(line: string): void {
      let clean = line;
      for (const needle of needles) {
        if (clean.includes(needle)) clean = clean.split(needle).join('[redacted]');
      }
      out.write(clean);
    },
  };
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['*.apiKey', '*.token', '*.authToken', 'headers.authorization', 'headers["x-api-key"]'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
