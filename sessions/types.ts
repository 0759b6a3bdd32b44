// The session engine's public contract: what platforms (Discord, Telegram, any later front end) drive and
// consume. Platform-neutral: no chat API types here.

import type { SandboxStatus } from './sandbox.js';

/** A chat message anywhere: the platform, the chat (channel / DM) and the message id, all as strings. */
export interface MessageRef {
  platform: string;
  chatId: string;
  messageId: string;
}

export type NodeState = 'queued' | 'running' | 'done' | 'error' | 'stopped' | 'interrupted';

/** How a finished node ended, with the detail a user should see. */
export type Outcome =
  | { kind: 'done'; text: string }
  /** `limit`: the run stopped at a limit it was given (`--max-turns`), not on a fault. */
  | { kind: 'error'; message: string; limit?: 'max_turns' }
  | { kind: 'stopped'; partialText: string }
  | { kind: 'timed_out'; idleMs: number; partialText: string }
  | { kind: 'crashed'; exitCode: number | null; signal: string | null; detail: string }
  /** `skipped`: a reply that waited for its parent task, which then failed or was stopped: never run. */
  | { kind: 'interrupted'; reason: string; skipped?: true };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** The role a chat message plays in a node; every one of them is a place a reply can fork from. */
export type MessageRole = 'prompt' | 'status' | 'continuation';

export interface NodeMessage {
  ref: MessageRef;
  role: MessageRole;
}

/** A read-only view of one conversation node, as persisted. */
export interface NodeSnapshot {
  id: string;
  treeId: string;
  parentId: string | null;
  prompt: string;
  state: NodeState;
  /** 1-based position in the wait queue while queued. */
  queuePosition: number | null;
  /** The CLI session this node ran in (a fork of its parent's), once known. */
  sessionId: string | null;
  /**
   * The parent session this node was started from with `--resume … --fork-session`, once it has started;
   * `null` when it started a fresh session (a root, or a reply to a node that ended without a session).
   */
  forkOf?: string | null;
  workingDirectory: string;
  /** A fork's own git worktree (WORKTREES=auto in a git project); absent where it shares its directory. */
  worktree?: WorktreeRecord;
  /** Set for tasks that asked for more than the engine's defaults (API requests). */
  run?: RunOptions;
  priority?: TaskPriority;
  messages: NodeMessage[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  costUsd: number;
  usage: Usage;
  outcome: Outcome | null;
}

/** Where a fork works, as the node's record keeps it (so a restart keeps the mapping). */
export interface WorktreeRecord {
  /** The fork's own worktree folder. */
  path: string;
  /** `relay/<node>`: the relay's branch checked out there. */
  branch: string;
  /** The project's main worktree, where `/merge` brings the changes. */
  repo: string;
  /** The worktree the fork was made from: the main one, or its parent's own (a fork of a fork). */
  from?: string;
  /** The commit holding the parent's state when the fork began: what `/diff` compares against first. */
  base: string;
  /** The main worktree's state when this line of forks left it: the merge base of `/merge`. */
  mainBase: string;
  /** Set once the worktree and branch are gone (`/discard`, or pruned after WORKTREE_TTL). */
  removedAt?: number;
  /**
   * Pruned after WORKTREE_TTL: the commit of everything the branch left (kept under `refs/relay-kept/`), which a
   * reply to it starts from. A /discard keeps nothing.
   */
  kept?: string;
}

/** The CLI retrying a failed API request: which attempt, after how long, and why. */
export interface ApiRetry {
  attempt: number;
  maxRetries: number;
  delayMs: number;
  /** The HTTP status, when the failure had one. */
  status: number | null;
  error: string;
}

/** What the renderers consume: a small progress model of one node's run. */
export type ProgressEvent =
  | { type: 'state'; state: NodeState; queuePosition: number | null }
  | { type: 'thinking'; text: string }
  | { type: 'text'; text: string }
  | { type: 'tool_call'; toolUseId: string; name: string; summary: string }
  | { type: 'tool_result'; toolUseId: string; isError: boolean; summary: string }
  | {
      type: 'subagent';
      taskId: string;
      status: 'started' | 'progress' | 'done' | 'failed';
      /** As the sub-agent started ('' on a progress event that names only its tool). */
      description: string;
      /** The tool call this progress is (`Bash: npm test`), when it is one. */
      tool?: string;
    }
  | ({ type: 'retry' } & ApiRetry)
  /**
   * The relay's proxy holds this session's request before the provider sees it: a 429 being waited out
   * (`attempt` of `maxRetries` when it was this request's own), the provider's rate window, or every
   * provider slot busy (`delayMs` null); `over` when the request went out after all.
   */
  | {
      type: 'provider_wait';
      provider: string;
      /** The provider as people know it ("NVIDIA NIM"), for the chat line. */
      label: string;
      reason: 'rate_limited' | 'rate_window' | 'busy' | 'over' | 'fallback';
      delayMs: number | null;
      attempt: number | null;
      maxRetries: number | null;
      /** `fallback`: why the provider was left, and the model answering instead (MODEL_FALLBACKS). */
      fallback?: { cause: string; next: string };
    }
  | { type: 'compacting' }
  /** The CLI switched its permission mode (`default` once a plan is approved, `plan` when the model enters it). */
  | { type: 'mode'; mode: string }
  /**
   * A tool call waiting for the user's permission (`CLAUDE_PERMISSIONS=ask`), then how it ended: answered,
   * `expired` (nobody answered in time: denied), or `cancelled` (the CLI withdrew it or the run stopped).
   * `requestId` is short and unique; answer it with `answerPermission(node.id, requestId, …)`.
   */
  | {
      type: 'permission';
      requestId: string;
      toolName: string;
      summary: string;
      status: 'pending' | 'allowed' | 'denied' | 'expired' | 'cancelled';
      /** Allowed for the rest of this session: the same kind of call is not asked again. */
      always?: boolean;
    }
  /**
   * The model asks the user (AskUserQuestion) or asks to leave plan mode (ExitPlanMode, `plan` holding the plan),
   * in a mode that asks (`ask`, or a conversation's /mode other than bypass); then how it ended. Answer it with
   * `answerQuestion(node.id, requestId, …)`.
   */
  | {
      type: 'question';
      requestId: string;
      kind: 'ask' | 'plan';
      questions: AskedQuestion[];
      plan: string;
      status: 'pending' | 'answered' | 'expired' | 'cancelled';
      /** How it was answered, in words (`Blue`, `approved`), once answered. */
      answer?: string;
    }
  | {
      type: 'outcome';
      outcome: Outcome;
      usage: Usage;
      costUsd: number;
      durationMs: number;
      /** The model that did the work (the main agent's last message), when the run got that far. */
      model: string | null;
    };

/** What the user chose: each question's answer (labels joined by ", " when several), or the plan's fate. */
export type QuestionAnswer =
  | { kind: 'answers'; answers: Record<string, string> }
  | { kind: 'approve_plan' }
  | { kind: 'keep_planning' };

/** One AskUserQuestion question as the model asked it. */
export interface AskedQuestion {
  question: string;
  header: string;
  options: Array<{ label: string; description: string }>;
  multiSelect: boolean;
}

/** `always`: allow, and do not ask again for the same kind of call in this session. */
export type PermissionDecision = 'allow' | 'deny' | 'always';

/** How one task's CLI runs, beyond the engine's own settings (an API request's model, system prompt, turns). */
export interface RunOptions {
  /** `--model`: a tier (`opus`, `sonnet`, `haiku`) or a model name; the CLI's default when left out. */
  model?: string;
  /** Added to Claude Code's own system prompt (`--append-system-prompt`). */
  appendSystemPrompt?: string;
  /** `--max-turns`: agentic turns before the CLI stops. */
  maxTurns?: number;
  /** Images sent with the prompt, as image content of the CLI's first user message. */
  images?: PromptImage[];
  /** Chat `/mode`: how tool calls are approved; replies inherit it. Absent: `CLAUDE_PERMISSIONS` decides. */
  permissionMode?: ChatPermissionMode;
}

/** An image as the Anthropic API carries it: base64 data and its media type. */
export interface PromptImage {
  mediaType: string;
  data: string;
}

/**
 * A chat's own defaults for its new conversations: its `/mode` and its `/project` (by name). Kept in the store, so
 * a restart keeps them; absent fields follow the relay's configuration.
 */
export interface ChatSettings {
  mode?: ChatPermissionMode;
  project?: string;
}

/** `default` asks in chat for each tool call, `acceptEdits` asks for all but file edits, `plan` plans first, `bypass` asks nothing. */
export type ChatPermissionMode = 'default' | 'acceptEdits' | 'plan' | 'bypass';

/** Where a waiting task stands: chat tasks first, then API requests by their priority. */
export type TaskPriority = 'chat' | 'high' | 'normal' | 'low';

export interface TaskInput {
  prompt: string;
  /** Chat tasks (the default) are served before API requests. */
  priority?: TaskPriority;
  run?: RunOptions;
  /** Where a new conversation works; the engine's workspace when left out (a fork works where its parent did). */
  workspace?: string;
  /** The user's message that carries the task. */
  origin: MessageRef;
  /** The message it replies to, if any: a reply to any message of a node forks that node. */
  replyTo: MessageRef | null;
}

export type SubmitResult =
  | {
      kind: 'accepted';
      node: NodeSnapshot;
      forkedFrom: NodeSnapshot | null;
      /** A fork that will share its parent's directory because the project is no git repository (WORKTREES=auto). */
      sharedDirectory?: boolean;
    }
  | { kind: 'rejected'; reason: string };

/** `all`, or the node that owns a given message (the reply target of a command). */
export type Target = { kind: 'all' } | { kind: 'message'; ref: MessageRef };

export interface StopResult {
  stopped: NodeSnapshot[];
}

export interface ClearResult {
  removed: NodeSnapshot[];
}

export interface EngineStats {
  running: number;
  queued: number;
  totalNodes: number;
  trees: number;
  byState: Record<NodeState, number>;
  usage: Usage;
  costUsd: number;
  errors: number;
  uptimeMs: number;
  maxSessions: number;
  /** CLI processes started ahead and waiting for a new conversation (`GATEWAY_PRESTART`). */
  prestarted?: number;
  /**
   * Whether the session store accepts writes; while it does not, new tasks are refused and state changes of
   * running ones are held (`pendingWrites`) and retried.
   */
  store?: { writable: boolean; pendingWrites: number; lastError: string | null };
  /** The forks' own worktrees that exist now and their disk use (measured after each change). */
  worktrees?: { count: number; bytes: number };
  /** `CLAUDE_SANDBOX` as it applies to the sessions. */
  sandbox?: SandboxStatus;
}

/** One side of what a branch changed: `git diff --stat` and the whole patch. */
export interface DiffPart {
  stat: string;
  patch: string;
}

/** Why a branch command does nothing for that message (no such task, it works in the main worktree …). */
export type BranchUnavailable = { kind: 'unavailable'; reason: string };

export type BranchDiff =
  | { kind: 'diff'; branch: string; path: string; vsParent: DiffPart; vsHead: DiffPart | null }
  | BranchUnavailable;

export type BranchMerge =
  | { kind: 'merged'; branch: string; into: string; style: 'merge' | 'squash'; files: string[] }
  | { kind: 'nothing'; branch: string }
  | { kind: 'conflict'; branch: string; into: string; files: string[] }
  | BranchUnavailable;

export type BranchDiscard = { kind: 'discarded'; branch: string; path: string } | BranchUnavailable;

/** The git side of a conversation's branches, each addressed by any message of the branch's task. */
export interface BranchCommands {
  diff(ref: MessageRef): Promise<BranchDiff>;
  /** Into the project's main worktree, as MERGE_STYLE says; a conflict changes nothing. */
  merge(ref: MessageRef): Promise<BranchMerge>;
  /** Removes the branch's worktree and git branch; the conversation stays (a reply forks from its start). */
  discard(ref: MessageRef): Promise<BranchDiscard>;
}

export type CliCheck = { ok: true; version: string; tested: boolean } | { ok: false; problem: string };

export type EngineListener = (node: NodeSnapshot, event: ProgressEvent) => void;

export interface SessionEngine {
  /**
   * Checks the CLI (`--version`; a CLI that cannot run is logged, and each task then ends with that error), then
   * loads persisted nodes: queued ones are queued again, running ones become interrupted (returned).
   */
  start(): Promise<{ interrupted: NodeSnapshot[]; cli: CliCheck }>;
  /** Persists the node before resolving; the task runs when a slot is free. */
  submit(task: TaskInput): Promise<SubmitResult>;
  /** Records a bot message as part of a node, so replies to it fork that node. */
  linkMessage(nodeId: string, ref: MessageRef, role: MessageRole): Promise<void>;
  findNodeByMessage(ref: MessageRef): NodeSnapshot | undefined;
  getNode(nodeId: string): NodeSnapshot | undefined;
  /** Every node of every conversation (copies), for a front end that draws the trees. */
  nodes(): NodeSnapshot[];
  stop(target: Target): Promise<StopResult>;
  /**
   * Answers a pending permission prompt of a running node; false when there is no such pending prompt
   * (already answered, expired, cancelled, or unknown).
   */
  answerPermission(nodeId: string, requestId: string, decision: PermissionDecision): Promise<boolean>;
  clear(target: Target): Promise<ClearResult>;
  /**
   * Sets the `/mode` of the node owning `ref`: tasks that continue it inherit it (a running task keeps the mode it
   * started with). The node, or undefined when no node owns the message.
   */
  setPermissionMode(ref: MessageRef, mode: ChatPermissionMode): Promise<NodeSnapshot | undefined>;
  /**
   * Answers a pending question (AskUserQuestion) or plan approval (ExitPlanMode) of a running node; false when it
   * is no longer open.
   */
  answerQuestion(nodeId: string, requestId: string, answer: QuestionAnswer): Promise<boolean>;
  /** A chat's settings (`chatKey`: the platform's key of the chat), as stored; `{}` when it has none. */
  chatSettings(chatKey: string): ChatSettings;
  /** Replaces a chat's settings; a StoreError when the store refuses them (they still apply until a restart). */
  setChatSettings(chatKey: string, settings: ChatSettings): Promise<void>;
  /** The proxy says why a running node's request waits; passed on to listeners as a `provider_wait` event. */
  reportProviderWait(
    nodeId: string,
    wait: Omit<Extract<ProgressEvent, { type: 'provider_wait' }>, 'type'>,
  ): void;
  stats(): EngineStats;
  branches: BranchCommands;
  /** Every node's progress; returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
  /** Stops every process and closes the store. */
  close(): Promise<void>;
}
