import type { Logger } from 'pino';
import { type ChatSettingsStore, updateChatSettings } from './chat-modes.js';
import type { ProjectChoice, ProjectRef } from './commands/index.js';

// Which project each chat's new conversations work in (`/project name`): the first project until the chat
// switches. Kept by name with the chat's settings in the session store, so a restart keeps it; a name no longer
// in PROJECTS falls back to the first project. Replies keep their conversation's directory, which the engine
// stores with the node.

export interface ProjectBook {
  /** The choice of one chat, for its commands. */
  forChat(chatKey: string): ProjectChoice;
  /** Where a new conversation of this chat works; undefined: the engine's default. */
  workspaceOf(chatKey: string): string | undefined;
}

export function createProjectBook(
  projects: readonly ProjectRef[],
  store: ChatSettingsStore,
  logger: Logger,
): ProjectBook {
  const chosen = (chatKey: string): ProjectRef | undefined => {
    const name = store.chatSettings(chatKey).project;
    return name === undefined ? undefined : projects.find((project) => project.name === name);
  };
  return {
    forChat: (chatKey) => ({
      list: () => projects,
      current: () => chosen(chatKey) ?? projects[0] ?? null,
      async switchTo(name) {
        const project = projects.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
        if (project === undefined) return null;
        await updateChatSettings(store, chatKey, { project: project.name }, logger);
        return project;
      },
    }),
    workspaceOf: (chatKey) => chosen(chatKey)?.path,
  };
}
