// One-line summaries of tool calls and results for chat progress: the part of the input a user recognises
// (file path, command, pattern, URL), never the whole input.

const MAX = 120;

function oneLine(text: string, max = MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function field(input: unknown, name: string): string | null {
  if (typeof input !== 'object' || input === null || !(name in input)) return null;
  const value: unknown = Reflect.get(input, name);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** Which input field names a tool's call best, by tool name; unknown tools fall back to the first string. */
const KEY_FIELD: Record<string, string[]> = {
  Bash: ['command'],
  Read: ['file_path'],
  Write: ['file_path'],
  Edit: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path', 'file_path'],
  Grep: ['pattern'],
  Glob: ['pattern'],
  WebFetch: ['url'],
  WebSearch: ['query'],
  ToolSearch: ['query'],
  Agent: ['description', 'prompt'],
  Task: ['description', 'prompt'],
  Skill: ['skill', 'command'],
};

const PATH_FIELDS = new Set(['file_path', 'notebook_path', 'path']);

/** Paths inside the session's working directory are shown relative to it: shorter on a phone screen. */
function relativeTo(cwd: string | undefined, path: string): string {
  if (cwd === undefined || cwd === '') return path;
  const base = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return path.startsWith(base) && path.length > base.length ? path.slice(base.length) : path;
}

/** A script of several lines: its first line and how many follow, not the lines run together. */
function scriptSummary(script: string): string {
  const lines = script.split('\n').filter((line) => line.trim() !== '');
  if (lines.length <= 1) return oneLine(script);
  const more = lines.length - 1;
  return `${oneLine(lines[0] ?? '', MAX - 16)} (+${more} line${more === 1 ? '' : 's'})`;
}

export function summarizeToolInput(name: string, input: unknown, cwd?: string): string {
  for (const key of KEY_FIELD[name] ?? []) {
    const value = field(input, key);
    if (value === null) continue;
    if (PATH_FIELDS.has(key)) return oneLine(relativeTo(cwd, value));
    return key === 'command' ? scriptSummary(value) : oneLine(value);
  }
  if (typeof input === 'object' && input !== null) {
    for (const value of Object.values(input)) {
      if (typeof value === 'string' && value.trim() !== '') return oneLine(value);
    }
  }
  return '';
}

/** The first non-empty line of a tool result, shortened; "(no output)" when there is none. */
export function summarizeToolResult(text: string): string {
  const first = text.split('\n').find((line) => line.trim() !== '');
  return first === undefined ? '(no output)' : oneLine(first);
}
