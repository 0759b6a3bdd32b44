import { wellFormed } from './render/index.js';

// What the relay tells a chat about a task on its own initiative, quoting the task's prompt back.

/** The first `max` code points of a prompt on one line, for quoting it back to the user. */
export function promptExcerpt(prompt: string, max = 80): string {
  const points = [...wellFormed(prompt).replace(/\s+/g, ' ').trim()];
  return points.length > max ? `${points.slice(0, max).join('')}…` : points.join('');
}

export function interruptedNotice(prompt: string): string {
  return `⚠️ The relay restarted while this task was running, so it was interrupted: "${promptExcerpt(prompt)}". Reply to this message to continue the conversation from there.`;
}
