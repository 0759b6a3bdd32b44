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
 * Replaces every given secret (4 characters or more), and the password of any URL, with `[redacted]`. The logger
 * runs every line through it, and so must anything else the relay prints (start-up errors, fatal stacks).
 */
export function createScrubber(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const needles = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))]
    // Longest first so a token containing another secret is replaced whole.
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let clean = text;
    for (const needle of needles) {
      if (clean.includes(needle)) clean = clean.split(needle).join('[redacted]');
    }
    // `scheme://user:password@host`: whatever the variable, a password in a URL is never printed.
    return clean.includes('@')
      ? clean.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, '$1[redacted]@')
      : clean;
  };
}

/**
 * Real keys and tokens are long or mix letters and digits; a value like `true`, `8082` or `postgres` would blank
 * out ordinary words in every line.
 */
function looksLikeASecret(value: string): boolean {
  return value.length >= 16 || (value.length >= 8 && /\d/.test(value) && /[a-z]/i.test(value));
}

/** Names of variables that hold secrets by convention, for scrubbing before the config is even read. */
export function secretsInEnvironment(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name]) => /(TOKEN|KEY|SECRET|PASSWORD|PASSWD)(S)?$/i.test(name))
    .flatMap(([, value]) => (value === undefined ? [] : value.split(',').map((part) => part.trim())))
    .filter(looksLikeASecret);
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
  const scrub = createScrubber(secrets);
  const destination = {
    write(line: string): void {
      const clean = scrub(line);
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
