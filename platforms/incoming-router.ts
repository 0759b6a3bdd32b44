import type { Logger } from 'pino';
import type { AttachmentFlow } from './attachments.js';
import { answerIncoming } from './chat-answer.js';
import type { ChatCommands } from './chat-commands.js';
import type { Background, ChatContext } from './chat-context.js';
import type { Chat, ChatRegistry } from './chat-registry.js';
import { commandUsage, parseTextCommand } from './commands/index.js';
import type { PermissionPrompts } from './permission-prompts.js';
import type { Incoming } from './platform.js';
import type { QuestionPrompts } from './question-prompts.js';
import type { StepsShelf } from './task-steps.js';
import type { TaskStart, TaskTracker } from './task-tracker.js';
import type { VoiceFlow } from './voice-flow.js';

// Where each incoming chat message goes: a command, a task, a voice note, files, a button press. Everything but
// a button press waits its turn in the chat's queue.

export interface IncomingRouterOptions {
  chats: ChatRegistry;
  commands: ChatCommands;
  tracker: TaskTracker;
  voice: VoiceFlow;
  prompts: PermissionPrompts;
  questions: QuestionPrompts;
  steps: StepsShelf;
  /** Null when photos and files are not taken. */
  attachments: AttachmentFlow | null;
  background: Background;
  logger: Logger;
  /** Starts a task in the chat's order. */
  startTask(chat: ChatContext, start: TaskStart): Promise<void>;
}

type IncomingOf<Kind extends Incoming['kind']> = Extract<Incoming, { kind: Kind }>;

export function createIncomingRouter(options: IncomingRouterOptions): (incoming: Incoming) => void {
  const { chats, commands, tracker, voice, prompts, questions, steps, attachments, background, logger } =
    options;
  const { startTask } = options;

  const onText = (chat: Chat, incoming: IncomingOf<'text'>): void => {
    const parsed = parseTextCommand(incoming.text, chat.platform.botName());
    if (parsed?.kind === 'other_bot') {
      logger.info({ chat: chat.key, mention: parsed.mention }, 'command for another bot: ignored');
      return;
    }
    if (parsed?.kind === 'with_arguments') {
      chat.queue.add(incoming.messageId, `/${parsed.command}`, () =>
        answerIncoming(chat, incoming, commandUsage(parsed.command)),
      );
      return;
    }
    if (parsed) {
      const { command, words } = parsed;
      chat.queue.add(incoming.messageId, `/${command}`, () => commands.run(chat, incoming, command, words));
      return;
    }
    const repliedTo = incoming.replyToMessageId;
    if (repliedTo !== undefined && repliedTo !== null) {
      // A reply to one of Claude's open questions answers it; any other reply is a task (a fork), as always.
      chat.queue.add(incoming.messageId, 'the reply', async () => {
        if (await questions.takeReply(chat, repliedTo, incoming.messageId, incoming.text)) return;
        // "Other…" was tapped and the user was told their next message answers it: a reply does too (in a
        // Telegram group with privacy mode on, the bot sees only replies).
        if (
          questions.expectsTyped(chat) &&
          (await questions.takeTyped(chat, incoming.messageId, incoming.text))
        )
          return;
        await tracker.startTask(chat, textStart(incoming));
      });
      return;
    }
    if (questions.expectsTyped(chat)) {
      // "Other…" was tapped: this message is the answer, unless the question went meanwhile (then it is a task).
      chat.queue.add(incoming.messageId, 'the answer', async () => {
        if (await questions.takeTyped(chat, incoming.messageId, incoming.text)) return;
        await tracker.startTask(chat, textStart(incoming));
      });
      return;
    }
    void startTask(chat, textStart(incoming));
  };

  const onFiles = (chat: Chat, incoming: IncomingOf<'files'>): void => {
    if (attachments === null) {
      // Attachments off: the caption alone is the task, as it was before they were supported.
      if (incoming.text.trim() !== '') {
        void startTask(chat, {
          prompt: incoming.text,
          messageId: incoming.messageId,
          replyToMessageId: incoming.replyToMessageId,
          ...(incoming.albumMessageIds?.length ? { alsoPrompts: incoming.albumMessageIds } : {}),
        });
        return;
      }
      const names = incoming.files.map((file) => file.fileName).join(', ');
      chat.queue.add(incoming.messageId, 'the attachment', () =>
        answerIncoming(chat, incoming, unsupportedText(`a file (${names})`)),
      );
      return;
    }
    // Downloaded and started inside the chat's queue: a text sent right after the photo runs after it.
    chat.queue.add(incoming.messageId, 'the attachment', async () => {
      const start = await attachments.prepare(chat, incoming);
      if (start) await tracker.startTask(chat, start);
    });
  };

  const onButton = (incoming: IncomingOf<'button'>): void => {
    // Not queued behind the chat's other work: a person is waiting for the tap to take effect.
    background.run(
      'button press',
      (async () => {
        const note =
          (await prompts.press(incoming.data)) ??
          (await questions.press(incoming.data)) ??
          (await steps.press(incoming.data)) ??
          'This button does nothing any more.';
        await incoming.acknowledge(note);
      })(),
    );
  };

  return (incoming) => {
    const chat = chats.chatFor(incoming.platform, incoming.chatId);
    if (!chat) {
      logger.error({ platform: incoming.platform }, 'message from a platform that is not attached');
      return;
    }
    switch (incoming.kind) {
      case 'command':
        chat.queue.add(incoming.messageId, `/${incoming.command}`, () =>
          commands.run(chat, incoming, incoming.command),
        );
        return;
      case 'text':
        return onText(chat, incoming);
      case 'files':
        return onFiles(chat, incoming);
      case 'audio':
        chat.queue.add(incoming.messageId, 'the voice note', () => voice.begin(chat, incoming));
        return;
      case 'button':
        return onButton(incoming);
      case 'unsupported':
        chat.queue.add(incoming.messageId, 'the attachment', () =>
          answerIncoming(chat, incoming, unsupportedText(incoming.description)),
        );
        return;
    }
  };
}

function unsupportedText(description: string): string {
  return `I can work with text messages and voice notes, but this was ${description}. Please describe the task in words.`;
}

function textStart(incoming: IncomingOf<'text'>): TaskStart {
  return {
    prompt: incoming.text,
    messageId: incoming.messageId,
    replyToMessageId: incoming.replyToMessageId,
  };
}
