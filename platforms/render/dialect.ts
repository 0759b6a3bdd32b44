// The markup a chat speaks, as calls. Render builds every message through a Dialect and never asks which chat
// it writes for. The objects themselves live in the platform folders (platforms/telegram/dialect.ts …), not
// here: render stays free of platform knowledge, and a new chat brings its markup in its own folder.

/** Markup opened before a block and closed after it (a code block, a quote); reopened when a block is split. */
export interface Enclosure {
  open: string;
  close: string;
}

export interface Dialect {
  /** Names the markup in test output and logs (`telegram-html`). */
  readonly name: string;
  /** Shows text literally. */
  escape(text: string): string;
  /**
   * Text sent without markup: a message's plain fallback, or a markdown line a chat with native markdown reads
   * itself. Whatever such text could trigger in the chat (Discord's mentions) is defused here.
   */
  verbatim(text: string): string;
  /** Emphasis around markup that is already escaped. */
  bold(markup: string): string;
  italic(markup: string): string;
  /** Inline code showing `text` literally. */
  code(text: string): string;
  /** A fenced code block; `language` is '' when the fence names none. */
  codeBlock(language: string): Enclosure;
  /** One line inside a code block, shown literally. */
  codeLine(text: string): string;
  /**
   * `native`: the chat reads markdown itself, so an answer's lines are sent as written (through `verbatim`),
   * quotes included. Otherwise, how the answer's markdown becomes this markup.
   */
  readonly markdown: 'native' | MarkdownMarkup;
  /**
   * A block shown collapsed until tapped (Telegram's expandable quote, the console's fold), for a finished task's
   * steps; absent when the chat has none (the steps then wait behind a button). `after`: the steps follow the
   * answer instead of leading it.
   */
  readonly collapsible?: Enclosure & { after?: boolean };
}

/** For a chat that does not read markdown: the markup for what the markdown of an answer means. */
export interface MarkdownMarkup {
  strike(markup: string): string;
  heading(markup: string): string;
  /** `url` is raw (a safe scheme, checked by the parser); the dialect escapes it for its markup. */
  link(url: string, markup: string): string;
  quote: Enclosure;
  /** Whether inline code may sit inside emphasis, links, headings and quotes; if not, it is shown as text. */
  codeNests: boolean;
  /** A markdown table from its cells' markup; without it a table's lines are shown as written. */
  table?(header: string[], rows: string[][]): string;
}
