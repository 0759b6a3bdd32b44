// What differs between the Claude Code versions the relay supports, told apart by the request's User-Agent
// (`claude-cli/2.1.197 (external, sdk-cli)`). Pure.

/** The CLI version a User-Agent names, or null for another client. */
export function cliVersionOf(userAgent: string | undefined): [number, number, number] | null {
  const match = /\bclaude-cli\/(\d+)\.(\d+)\.(\d+)/.exec(userAgent ?? '');
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Whether answers must name the model the client asked for rather than the provider's. CLIs before 2.1.330
 * (2.1.197 measured) leave out thinking blocks of a message that names another model when they send the history
 * back, and providers that want their reasoning back (DeepSeek, Kimi) then refuse the next turn. 2.1.330 keeps
 * them, so it is told the provider's model, which the task's footer shows.
 */
export function echoesRequestedModel(userAgent: string | undefined): boolean {
  const version = cliVersionOf(userAgent);
  if (version === null) return false;
  const [major, minor, patch] = version;
  return major < 2 || (major === 2 && (minor < 1 || (minor === 1 && patch < 330)));
}
