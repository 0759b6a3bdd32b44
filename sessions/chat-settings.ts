import type { NodeStore } from './store.js';
import type { ChatSettings } from './types.js';

// Each chat's settings (`/mode`, `/project` for its new conversations), in memory for the chats to read at once
// and in the store so a restart keeps them. Loaded at the engine's start, before any chat is served.

export interface ChatSettingsBook {
  load(store: NodeStore): Promise<void>;
  get(chatKey: string): ChatSettings;
  /** Applies at once; the promise settles once stored (a StoreError when the store refuses). */
  set(chatKey: string, settings: ChatSettings): Promise<void>;
}

export function createChatSettingsBook(): ChatSettingsBook {
  let store: NodeStore | null = null;
  let chats = new Map<string, ChatSettings>();
  return {
    async load(opened) {
      store = opened;
      chats = await opened.loadChats();
    },
    get: (chatKey) => ({ ...chats.get(chatKey) }),
    async set(chatKey, settings) {
      chats.set(chatKey, { ...settings });
      if (store === null) throw new Error('session engine is not started');
      await store.saveChat(chatKey, settings);
    },
  };
}
