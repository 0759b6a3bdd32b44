import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CommandName } from './commands/index.js';
import type { ChatTransport } from './outbox/index.js';
import type { RenderLimits } from './render/index.js';

// What the controller needs from a chat service. A new service (Slack, Matrix …) is one folder implementing
// this; nothing else changes. Adapters filter strangers themselves (`isAllowed`) and never emit their messages.

/** The commands of the table in commands/, the one place a command is added. */
export type { CommandName };

export interface IncomingBase {
  platform: string;
  chatId: string;
  messageId: string;
  userId: string;
  /** The message this one replies to, if any. */
  replyToMessageId: string | null;
}

/** A file announced by the platform; nothing is downloaded until `download` is called. */
export interface IncomingFile {
  /** As the sender named it (untrusted: may hold path separators, `..`, leading dots). */
  fileName: string;
  mimeType: string;
  /** As declared by the platform, checked against the limit before any download. */
  sizeBytes: number | null;
  download(signal: AbortSignal): Promise<Uint8Array>;
}

/** An audio file (voice note, audio attachment): transcribed rather than saved. */
export type IncomingAudio = IncomingFile;

export type Incoming =
  | (IncomingBase & { kind: 'text'; text: string })
  /**
   * A slash command from the platform's own command UI. `respond` answers it in place (the platform's
   * acknowledgement is already sent); typed `/stop` etc. arrive as `text` and are parsed by the controller.
   */
  | (IncomingBase & { kind: 'command'; command: CommandName; respond(text: string): Promise<void> })
  | (IncomingBase & { kind: 'audio'; audio: IncomingAudio })
  /**
   * Photos, documents, attachments that are not audio, with the caption or message text ('' when none). The
   * controller saves them into the workspace for the task, or explains it cannot when attachments are off.
   */
  | (IncomingBase & {
      kind: 'files';
      text: string;
      files: IncomingFile[];
      /** The album's other messages (Telegram sends one per photo): part of the same task. */
      albumMessageIds?: string[];
    })
  /**
   * A press of one of our message buttons (`messageId` is the message it sits under) by an allowed user; the
   * adapter answers strangers' presses itself. `acknowledge` shows the user a short note (a toast on Telegram,
   * an ephemeral message on Discord); the platform's own "pressed" acknowledgement is already sent.
   */
  | (IncomingBase & { kind: 'button'; data: string; acknowledge(text: string): Promise<void> })
  /** A sticker, video or the like without text: the user is told what the relay understands. */
  | (IncomingBase & { kind: 'unsupported'; description: string });

export type IncomingHandler = (incoming: Incoming) => void;

export interface MessagingPlatform extends ChatTransport {
  /** `telegram`, `discord`: also the `platform` of every MessageRef this platform creates. */
  readonly name: string;
  readonly limits: RenderLimits;
  /** Connects, registers commands when they changed, and starts delivering allowed users' messages. */
  start(onIncoming: IncomingHandler): Promise<void>;
  stop(): Promise<void>;
  /** Shows "typing…" for a few seconds; callers repeat it while work goes on. */
  sendTyping(chatId: string): Promise<void>;
  isAllowed(chatId: string, userId: string): boolean;
  /** The bot's own user name once connected (commands addressed `/cmd@name` to another bot are ignored). */
  botName(): string | null;
  /**
   * Its own limit of sends and edits per chat, when the chat apps' (MESSAGING_RATE_LIMIT) is not its limit:
   * the web console is a page on this machine, not a service that throttles bots.
   */
  readonly rate?: { count: number; windowMs: number };
  /** Pages it serves on the relay's port (the web console's /ui/); chat apps serve none. */
  readonly http?: HttpRoutes;
}

/** Requests under `prefix` (`/ui`: the path itself and everything below it), answered by the platform. */
export interface HttpRoutes {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
}
