import type { Background, ChatContext } from './chat-context.js';

// "typing…" while a chat has a running task: the platforms show it for a few seconds, so it is renewed.

export interface TypingIndicator {
  /** Starts or stops renewing "typing…" in the chat. */
  update(chat: ChatContext, running: boolean): void;
  close(): void;
}

export function createTypingIndicator(background: Background, intervalMs: number): TypingIndicator {
  const timers = new Map<string, ReturnType<typeof setInterval>>();
  return {
    update(chat, running) {
      const timer = timers.get(chat.key);
      if (running && timer === undefined) {
        const tick = (): void => background.run('typing', chat.platform.sendTyping(chat.chatId));
        tick();
        const interval = setInterval(tick, intervalMs);
        interval.unref();
        timers.set(chat.key, interval);
      } else if (!running && timer !== undefined) {
        clearInterval(timer);
        timers.delete(chat.key);
      }
    },
    close() {
      for (const timer of timers.values()) clearInterval(timer);
      timers.clear();
    },
  };
}
