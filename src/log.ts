import { type Logger, pino } from 'pino';

export type { Logger };

/** Minimal writable the logger needs; tests pass an in-memory sink to grep what was logged. */
export interface LogSink {
  write(line: string): void;
}

export interface LoggerOptions {
  /** One readable line per entry (`14:03:07 INFO  proxy listening url=…`) instead of JSON: for a terminal. */
  pretty?: boolean;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** Turns one pino JSON line into `time level [part] message key=value …`; anything unparsable passes as is. */
export function prettyLine(line: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const { level, time, msg, part, err, ...rest } = entry as Record<string, unknown>;
  const clock = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '--:--:--';
  const name = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : 'INFO ';
  const fields = Object.entries(rest).map(
    ([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  const error =
    typeof err === 'object' && err !== null && 'message' in err
      ? ` — ${String((err as { message: unknown }).message)}`
      : '';
  const where = typeof part === 'string' ? `[${part}] ` : '';
  return `${clock} ${name} ${where}${typeof msg === 'string' ? msg : ''}${error}${fields.length ? `  ${fields.join(' ')}` : ''}\n`;
}

/**
 * A pino logger whose every serialized line is scrubbed of the given secrets (bot tokens, provider keys, the
 * proxy token), wherever they appear: message, error text, URL or nested field.
 */
export function createLogger(
  level: string,
  secrets: ReadonlyArray<string | undefined>,
  sink?: LogSink,
  options: LoggerOptions = {},
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
      out.write(options.pretty ? prettyLine(clean) : clean);
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
