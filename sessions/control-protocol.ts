import { record, strOrNull } from '../src/common/index.js';

// The CLI's stream-json control protocol, the parts the relay uses: permission prompts (`can_use_tool`) coming
// out, allow/deny answers and interrupts going in, and the CLI withdrawing a prompt (`control_cancel_request`).
// Pure: parse `unknown`, encode to one JSON line. Shapes: shared/reference/claude-cli-2.1.330/CONTROL-PROTOCOL.md.

/** One suggested (or built) permission update, passed back as `updatedPermissions` for "always allow". */
export type PermissionUpdate =
  | {
      type: 'addRules';
      rules: Array<{ toolName: string; ruleContent?: string }>;
      behavior: string;
      destination: string;
    }
  | { type: 'setMode'; mode: string; destination: string }
  | { type: 'addDirectories'; directories: string[]; destination: string }
  /** Any other shape the CLI suggests: kept as sent, never echoed by us. */
  | { type: 'other'; raw: unknown };

export interface PermissionRequest {
  requestId: string;
  toolName: string;
  /** The tool input after the CLI normalised it: echoed back as `updatedInput` on allow. */
  input: unknown;
  toolUseId: string | null;
  description: string | null;
  suggestions: PermissionUpdate[];
  blockedPath: string | null;
  decisionReason: string | null;
  /** AskUserQuestion / ExitPlanMode (2.1.330): a one-tap approval does not answer them. */
  requiresUserInteraction: boolean;
}

export type ControlMessage =
  | { kind: 'can_use_tool'; request: PermissionRequest }
  /** A control request of a subtype we do not serve (answered with an error so the CLI does not wait). */
  | { kind: 'unsupported_request'; requestId: string; subtype: string }
  | { kind: 'cancel'; requestId: string }
  | { kind: 'response'; requestId: string; ok: boolean; error: string | null };

function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : null;
}

function parseUpdate(value: unknown): PermissionUpdate {
  const update = record(value);
  const destination = strOrNull(update?.destination);
  if (update === null || destination === null) return { type: 'other', raw: value };
  if (update.type === 'addRules' && Array.isArray(update.rules)) {
    const rules: Array<{ toolName: string; ruleContent?: string }> = [];
    for (const item of update.rules) {
      const rule = record(item);
      const toolName = strOrNull(rule?.toolName);
      if (toolName === null) return { type: 'other', raw: value };
      const ruleContent = strOrNull(rule?.ruleContent);
      rules.push(ruleContent === null ? { toolName } : { toolName, ruleContent });
    }
    return { type: 'addRules', rules, behavior: strOrNull(update.behavior) ?? 'allow', destination };
  }
  if (update.type === 'setMode' && typeof update.mode === 'string') {
    return { type: 'setMode', mode: update.mode, destination };
  }
  const directories = strings(update.directories);
  if (update.type === 'addDirectories' && directories !== null) {
    return { type: 'addDirectories', directories, destination };
  }
  return { type: 'other', raw: value };
}

/** A control line from the CLI's stdout; `null` for anything that is not one (or is malformed). */
export function parseControlMessage(value: unknown): ControlMessage | null {
  const line = record(value);
  if (line === null) return null;
  if (line.type === 'control_cancel_request') {
    const requestId = strOrNull(line.request_id);
    return requestId === null ? null : { kind: 'cancel', requestId };
  }
  if (line.type === 'control_response') {
    const response = record(line.response);
    const requestId = strOrNull(response?.request_id);
    if (response === null || requestId === null) return null;
    const ok = response.subtype === 'success';
    return { kind: 'response', requestId, ok, error: ok ? null : (strOrNull(response.error) ?? 'error') };
  }
  if (line.type !== 'control_request') return null;
  const requestId = strOrNull(line.request_id);
  const request = record(line.request);
  if (requestId === null || request === null) return null;
  const subtype = strOrNull(request.subtype) ?? '';
  const toolName = strOrNull(request.tool_name);
  if (subtype !== 'can_use_tool' || toolName === null) {
    return { kind: 'unsupported_request', requestId, subtype };
  }
  return {
    kind: 'can_use_tool',
    request: {
      requestId,
      toolName,
      input: request.input ?? {},
      toolUseId: strOrNull(request.tool_use_id),
      description: strOrNull(request.description),
      suggestions: Array.isArray(request.permission_suggestions)
        ? request.permission_suggestions.map(parseUpdate)
        : [],
      blockedPath: strOrNull(request.blocked_path),
      decisionReason: strOrNull(request.decision_reason),
      requiresUserInteraction: request.requires_user_interaction === true,
    },
  };
}

function line(message: object): string {
  return `${JSON.stringify(message)}\n`;
}

function success(requestId: string, response: object): string {
  return line({
    type: 'control_response',
    response: { subtype: 'success', request_id: requestId, response },
  });
}

function toWire(update: Exclude<PermissionUpdate, { type: 'other' }>): object {
  return update;
}

/**
 * Allow, always with `updatedInput` (2.1.197 rejects an allow without it); `updatedPermissions` only for
 * "always".
 */
export function encodeAllow(request: PermissionRequest, updatedPermissions: PermissionUpdate[] = []): string {
  const rules = updatedPermissions.filter(
    (update): update is Exclude<PermissionUpdate, { type: 'other' }> => update.type !== 'other',
  );
  return success(request.requestId, {
    behavior: 'allow',
    updatedInput: request.input,
    ...(rules.length > 0 ? { updatedPermissions: rules.map(toWire) } : {}),
    ...(request.toolUseId === null ? {} : { toolUseID: request.toolUseId }),
  });
}

/** Deny: the model gets `message` as an error tool result and the turn goes on. */
export function encodeDeny(request: PermissionRequest, message: string): string {
  return success(request.requestId, {
    behavior: 'deny',
    message,
    ...(request.toolUseId === null ? {} : { toolUseID: request.toolUseId }),
  });
}

/**
 * The SDK's initialize request carrying what `--append-system-prompt` would have: a pre-started process was
 * started before the task's system prompt was known. It applies from the first turn on.
 */
export function encodeInitialize(requestId: string, appendSystemPrompt: string): string {
  return line({
    type: 'control_request',
    request_id: requestId,
    request: { subtype: 'initialize', appendSystemPrompt },
  });
}

/**
 * A harmless question a pre-started process answers once it has started: its reply says it is ready. (Not
 * initialize: the CLI takes initialize's options only once, and the task's system prompt comes later.)
 */
export function encodeReadyProbe(requestId: string): string {
  return line({ type: 'control_request', request_id: requestId, request: { subtype: 'mcp_status' } });
}

/** Ends the current turn like the Stop button of the SDK: the CLI withdraws an open prompt and prints a result. */
export function encodeInterrupt(requestId: string): string {
  return line({ type: 'control_request', request_id: requestId, request: { subtype: 'interrupt' } });
}

/** The answer to a control request we do not serve, so the CLI does not wait for one. */
export function encodeUnsupported(requestId: string, subtype: string): string {
  return line({
    type: 'control_response',
    response: {
      subtype: 'error',
      request_id: requestId,
      error: `Unsupported control request subtype: ${subtype}`,
    },
  });
}

/**
 * "Always allow" for this session only: the CLI's own suggestions kept in memory (`destination: session`,
 * never written to the project's settings). Rules (Bash `touch *`) are preferred; the mode change to
 * acceptEdits (the CLI's only suggestion for Write/Edit) only when there is no rule, with the directories
 * suggested beside it (a Write outside the workspace); never extra directories next to a rule, which would widen
 * it. Without any suggestion (a compound Bash command) a rule for this exact command, or the whole tool, is built.
 * Known limit (2.1.330): a command that writes through a redirect (`echo x >> f`) is asked again all the same.
 */
export function alwaysAllowUpdates(request: PermissionRequest): PermissionUpdate[] {
  const session = (update: PermissionUpdate): PermissionUpdate =>
    update.type === 'other' ? update : { ...update, destination: 'session' };
  const rules = request.suggestions
    .filter((update) => update.type === 'addRules')
    .map((update) => ({ ...update, behavior: 'allow' }));
  if (rules.length > 0) return rules.map(session);
  const modes = request.suggestions.filter((update) => update.type === 'setMode');
  const directories = request.suggestions.filter((update) => update.type === 'addDirectories');
  if (modes.length > 0) return [...modes, ...directories].map(session);
  const input = record(request.input);
  const command = request.toolName === 'Bash' ? strOrNull(input?.command) : null;
  return [
    {
      type: 'addRules',
      rules: [command === null ? { toolName: request.toolName } : { toolName: 'Bash', ruleContent: command }],
      behavior: 'allow',
      destination: 'session',
    },
  ];
}
