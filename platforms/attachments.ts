import { mkdir, open, realpath, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Logger } from 'pino';
import { formatBytes, formatMegabytes } from '../src/common/index.js';
import { numberedName, toSafeFileName } from './attachment-names.js';
import { type ChatContext, sentence } from './chat-context.js';
import type { IncomingBase, IncomingFile } from './platform.js';
import type { TaskStart } from './task-tracker.js';

// Photos and files sent with a task: downloaded, saved into the session's workspace under
// `attachments/<message id>/<safe name>`, and named in the prompt by their path relative to the workspace (the
// CLI's working directory), so Claude reads them with its own Read tool. All files of a message are
// downloaded before anything is written or run: one that is too large or fails means no task and a clear answer.

/** Telegram bots cannot download more than this; the same limit on Discord keeps one behaviour. */
export const ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024;
export const ATTACHMENTS_FOLDER = 'attachments';
const NO_TEXT_PROMPT = 'See the attached file(s).';

export interface SavedAttachment {
  /** Relative to the workspace, with `/`: what the prompt names. */
  relativePath: string;
  mimeType: string;
  sizeBytes: number;
}

export type SaveResult =
  | { ok: true; saved: SavedAttachment[] }
  /** `message` is one plain sentence for the user. */
  | { ok: false; kind: 'too_large' | 'download_failed' | 'save_failed'; message: string };

export interface SaveAttachmentsInput {
  workspace: string;
  messageId: string;
  files: readonly IncomingFile[];
  maxBytes: number;
  signal: AbortSignal;
  logger: Logger;
}

export async function saveAttachments(input: SaveAttachmentsInput): Promise<SaveResult> {
  const { files, maxBytes } = input;
  const tooLarge = (file: IncomingFile, bytes: number): SaveResult => ({
    ok: false,
    kind: 'too_large',
    message: `⚠️ ${toSafeFileName(file.fileName)} is ${formatMegabytes(bytes)}; the limit is ${formatMegabytes(maxBytes)} per file. Nothing was run.`,
  });
  // Declared sizes first, so an over-size file costs no download at all.
  for (const file of files) {
    if (file.sizeBytes !== null && file.sizeBytes > maxBytes) return tooLarge(file, file.sizeBytes);
  }
  const downloaded: Array<{ file: IncomingFile; data: Uint8Array }> = [];
  for (const file of files) {
    let data: Uint8Array;
    try {
      data = await file.download(input.signal);
    } catch (error) {
      input.logger.warn({ err: error, file: file.fileName }, 'attachment download failed');
      return {
        ok: false,
        kind: 'download_failed',
        message: `⚠️ Could not download ${toSafeFileName(file.fileName)}. Nothing was run; please send it again.`,
      };
    }
    if (data.byteLength > maxBytes) return tooLarge(file, data.byteLength);
    downloaded.push({ file, data });
  }
  const folderName = toSafeFileName(input.messageId);
  const folder = join(input.workspace, ATTACHMENTS_FOLDER, folderName);
  const written: string[] = [];
  try {
    // A symlinked `attachments` or message folder (the agent can make one) must not carry files out of the
    // workspace: each level is checked before anything is created inside it.
    const realRoot = join(await realpath(input.workspace), ATTACHMENTS_FOLDER);
    for (const [path, expected] of [
      [join(input.workspace, ATTACHMENTS_FOLDER), realRoot],
      [folder, join(realRoot, folderName)],
    ] as const) {
      await mkdir(path, { recursive: true });
      if ((await realpath(path)) !== expected) throw new Error(`${path} resolves outside the workspace`);
    }
    const saved: SavedAttachment[] = [];
    for (const { file, data } of downloaded) {
      const name = await writeNew(folder, toSafeFileName(file.fileName), data);
      written.push(join(folder, name));
      saved.push({
        relativePath: posix.join(ATTACHMENTS_FOLDER, folderName, name),
        mimeType: file.mimeType,
        sizeBytes: data.byteLength,
      });
    }
    return { ok: true, saved };
  } catch (error) {
    input.logger.error({ err: error, folder }, 'attachment could not be saved');
    await Promise.allSettled(written.map((path) => rm(path, { force: true })));
    return {
      ok: false,
      kind: 'save_failed',
      message: '⚠️ Could not save the attachment into the workspace. Nothing was run.',
    };
  }
}

/** Creates `name` in `folder`, or `name-2`, `name-3` … when taken: an existing file is never overwritten. */
async function writeNew(folder: string, name: string, data: Uint8Array): Promise<string> {
  for (let n = 1; n <= 1000; n++) {
    const candidate = n === 1 ? name : numberedName(name, n);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      // `wx`: exclusive create, which also refuses to follow a symlink planted under that name.
      handle = await open(join(folder, candidate), 'wx');
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'EEXIST') continue;
      throw error;
    }
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    return candidate;
  }
  throw new Error(`no free name for ${name} in ${folder}`);
}

/**
 * The caption (or a stand-in) followed by one `Attached:` line per saved file. `workspace`: given when the task
 * may work elsewhere (another project, a fork's worktree), the paths are named from it, absolute.
 */
export function attachmentPrompt(
  text: string,
  saved: readonly SavedAttachment[],
  workspace?: string,
): string {
  const intro = text.trim() === '' ? NO_TEXT_PROMPT : text;
  const lines = saved.map(
    // The type is the sender's word: kept to one line, so it cannot add lines to the prompt.
    (file) =>
      `Attached: ${workspace === undefined ? file.relativePath : join(workspace, file.relativePath)} (${file.mimeType.replace(/\p{Cc}+/gu, ' ').trim() || 'unknown type'}, ${formatBytes(file.sizeBytes)})`,
  );
  return [intro, '', ...lines].join('\n');
}

export interface AttachmentFlowOptions {
  workspace: string;
  logger: Logger;
  maxBytes?: number;
  /** A download that hangs must not hold the chat's queue forever. */
  downloadTimeoutMs?: number;
  /** Whether this chat's task may work outside the workspace (its project, or a fork's own worktree). */
  worksElsewhere?(chatKey: string, isReply: boolean): boolean;
}

export interface AttachmentFlow {
  /** Per file. */
  readonly maxBytes: number;
  /** Saves the files; the task to start, or null when the user was told why there is none. */
  prepare(
    chat: ChatContext,
    incoming: IncomingBase & { text: string; files: readonly IncomingFile[]; albumMessageIds?: string[] },
  ): Promise<TaskStart | null>;
  /** Aborts downloads in progress (shutdown). */
  close(): void;
}

export function createAttachmentFlow(options: AttachmentFlowOptions): AttachmentFlow {
  const closing = new AbortController();
  const maxBytes = options.maxBytes ?? ATTACHMENT_MAX_BYTES;
  return {
    maxBytes,
    async prepare(chat, incoming) {
      const signal = AbortSignal.any([
        closing.signal,
        // Per file: an album's photos download one after another.
        AbortSignal.timeout((options.downloadTimeoutMs ?? 120_000) * Math.max(1, incoming.files.length)),
      ]);
      const result = await saveAttachments({
        workspace: options.workspace,
        messageId: incoming.messageId,
        files: incoming.files,
        maxBytes,
        signal,
        logger: options.logger.child({ chat: chat.key }),
      });
      if (!result.ok) {
        await chat.outbox.send(chat.chatId, sentence(chat, result.message), {
          replyToMessageId: incoming.messageId,
        });
        return null;
      }
      return {
        prompt: attachmentPrompt(
          incoming.text,
          result.saved,
          options.worksElsewhere?.(chat.key, incoming.replyToMessageId !== null) === true
            ? options.workspace
            : undefined,
        ),
        messageId: incoming.messageId,
        replyToMessageId: incoming.replyToMessageId,
        ...(incoming.albumMessageIds?.length ? { alsoPrompts: incoming.albumMessageIds } : {}),
      };
    },
    close() {
      closing.abort(new Error('relay shutting down'));
    },
  };
}
