import type { Logger } from 'pino';
import type { ChatPermissionMode, ChatSettings, SessionEngine } from '../sessions/index.js';

// Each chat's `/mode` for its new conversations (a reply inherits its conversation's instead), and the settings
// it lives in beside the chat's `/project`: kept by the engine in the session store, so a restart keeps them.

/** Where a chat's settings live: the engine (its store), or memory in tests of the commands alone. */
export type ChatSettingsStore = Pick<SessionEngine, 'chatSettings' | 'setChatSettings'>;

/** In memory only: for a controller without a store (command tests). */
export function memoryChatSettings(): ChatSettingsStore {
  const chats = new Map<string, ChatSettings>();
  return {
    chatSettings: (chatKey) => ({ ...chats.get(chatKey) }),
    setChatSettings: async (chatKey, settings) => {
      chats.set(chatKey, { ...settings });
    },
  };
}

/**
 * Changes some of a chat's settings. It applies at once; a store that refuses it is logged, and the change then
 * lasts until a restart (the chat's answer has already said it applies).
 */
export async function updateChatSettings(
  store: ChatSettingsStore,
  chatKey: string,
  change: ChatSettings,
  logger: Logger,
): Promise<void> {
  try {
    await store.setChatSettings(chatKey, { ...store.chatSettings(chatKey), ...change });
  } catch (error) {
    logger.warn({ err: error, chat: chatKey }, 'chat settings not stored; they apply until a restart');
  }
}

export interface ChatModes {
  get(chatKey: string): ChatPermissionMode | null;
  set(chatKey: string, mode: ChatPermissionMode): Promise<void>;
}

export function createChatModes(store: ChatSettingsStore, logger: Logger): ChatModes {
  return {
    get: (chatKey) => store.chatSettings(chatKey).mode ?? null,
    set: (chatKey, mode) => updateChatSettings(store, chatKey, { mode }, logger),
  };
}
