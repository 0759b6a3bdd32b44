import type { ProjectChoice, ProjectRef } from './commands/index.js';

// Which project each chat's new conversations work in (`/project name`): the first project until the chat
// switches. Kept in memory: after a restart every chat starts in the first project again (replies keep their
// conversation's directory, which the engine stores).

export interface ProjectBook {
  /** The choice of one chat, for its commands. */
  forChat(chatKey: string): ProjectChoice;
  /** Where a new conversation of this chat works; undefined: the engine's default. */
  workspaceOf(chatKey: string): string | undefined;
}

export function createProjectBook(projects: readonly ProjectRef[]): ProjectBook {
  const chosen = new Map<string, ProjectRef>();
  const current = (chatKey: string): ProjectRef | null => chosen.get(chatKey) ?? projects[0] ?? null;
  return {
    forChat: (chatKey) => ({
      list: () => projects,
      current: () => current(chatKey),
      switchTo(name) {
        const project = projects.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
        if (project === undefined) return null;
        chosen.set(chatKey, project);
        return project;
      },
    }),
    workspaceOf: (chatKey) => chosen.get(chatKey)?.path,
  };
}
