import type { MessagingPlatform } from './platform.js';
import type { RenderLimits } from './render/index.js';

// A platform whose chat library (discord.js, grammY: tens of MiB) is imported only when the platform is built,
// that is when its token is set: a relay without that token never loads it. The module loads at once, so by the
// time messages arrive (after `start`) every call goes straight to the real platform.

export function deferredPlatform(
  shown: { name: string; limits: RenderLimits },
  load: () => Promise<MessagingPlatform>,
): MessagingPlatform {
  let loaded: MessagingPlatform | null = null;
  const loading = load().then((platform) => {
    loaded = platform;
    return platform;
  });
  // A failed import is reported by the first call that needs the platform (start), not as an unhandled rejection.
  loading.catch(() => undefined);
  return {
    name: shown.name,
    limits: shown.limits,
    start: async (onIncoming) => (await loading).start(onIncoming),
    stop: async () => {
      const platform = await loading.catch(() => null);
      await platform?.stop();
    },
    sendTyping: async (chatId) => (await loading).sendTyping(chatId),
    // Only asked about messages the platform itself delivered, so after it loaded.
    isAllowed: (chatId, userId) => loaded?.isAllowed(chatId, userId) ?? false,
    botName: () => loaded?.botName() ?? null,
    send: async (chatId, text, options) => (await loading).send(chatId, text, options),
    edit: async (chatId, messageId, text, options) => (await loading).edit(chatId, messageId, text, options),
    delete: async (chatId, messageId) => (await loading).delete(chatId, messageId),
  };
}
