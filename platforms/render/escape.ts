// Escaping that belongs to no chat: each chat's own escaping is part of its Dialect.

/** Escapes text so our own markdown parser (and Discord) shows it literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]#>|]/g, '\\$&').replace(/^(\s*)([-+])/gm, '$1\\$2');
}
