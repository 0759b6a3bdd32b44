import type { ChatPermissionMode } from '../sessions/index.js';

// Each chat's `/mode` for its new conversations (a reply inherits its conversation's instead). In memory: after a
// restart new conversations follow CLAUDE_PERMISSIONS again, while conversations keep theirs (stored with them).

export interface ChatModes {
  get(chatKey: string): ChatPermissionMode | null;
  set(chatKey: string, mode: ChatPermissionMode): void;
}

export function createChatModes(): ChatModes {
  const modes = new Map<string, ChatPermissionMode>();
  return {
    get: (chatKey) => modes.get(chatKey) ?? null,
    set: (chatKey, mode) => {
      modes.set(chatKey, mode);
    },
  };
}
