import type { Dialect } from './dialect.js';

// The render model's small shared types: which markup a chat speaks and how long one message may be.

export interface RenderLimits {
  dialect: Dialect;
  /** Telegram 4096, Discord 2000. Measured in UTF-16 code units (never below what the platform counts). */
  maxLength: number;
}

/** A button under a message (Telegram inline keyboard, Discord component); `id` comes back when pressed. */
export interface ChatButton {
  /** At most 64 bytes (Telegram's callback_data limit). */
  id: string;
  label: string;
  style: 'primary' | 'secondary' | 'success' | 'danger';
}

/** One chat message's text: `plain` is the same content with no markup, for when the platform rejects it. */
export interface Formatted {
  formatted: string;
  plain: string;
  /** Buttons under the message; on an edit, `[]` removes them and absent leaves the platform's default. */
  buttons?: ChatButton[];
}

/** The smallest limit the renderers accept: a code fence wrapper and one escaped character must fit. */
export const MIN_MAX_LENGTH = 100;

export function assertLimits(limits: RenderLimits): void {
  if (!Number.isInteger(limits.maxLength) || limits.maxLength < MIN_MAX_LENGTH) {
    throw new RangeError(
      `RenderLimits.maxLength must be an integer of at least ${MIN_MAX_LENGTH}, got ${limits.maxLength}`,
    );
  }
}
