import type { Logger } from 'pino';
import type { Transcriber } from '../src/common/index.js';
import { formatMegabytes } from '../src/common/index.js';
import { type Background, type ChatContext, sentence } from './chat-context.js';
import type { IncomingAudio, IncomingBase } from './platform.js';
import type { TaskStart } from './task-tracker.js';

// Voice notes: one status message goes "transcribing…" → the transcript (or the reason there is none), then
// the words become a task exactly like typed text. Jobs are cancellable: /stop and /clear abort them.

interface VoiceJob {
  chat: ChatContext;
  voiceMessageId: string;
  statusId: string | null;
  abort: AbortController;
  /** Set by /clear: the status message is deleted rather than told "cancelled". */
  discard: boolean;
}

export interface VoiceFlow {
  begin(chat: ChatContext, incoming: IncomingBase & { audio: IncomingAudio }): Promise<void>;
  /** Cancels the job of this voice note or status message, or every job when `messageId` is null. */
  cancel(chat: ChatContext | null, messageId: string | null, options: { discard: boolean }): number;
  close(): void;
}

export interface VoiceFlowOptions {
  transcriber: Transcriber;
  enabled: boolean;
  background: Background;
  logger: Logger;
  /** Submits the transcript as a task through the chat's ordered queue. */
  submit(chat: ChatContext, start: TaskStart): Promise<void>;
}

const MAX_TRANSCRIPT_SHOWN = 1500;

export function createVoiceFlow(options: VoiceFlowOptions): VoiceFlow {
  const { transcriber, background, logger } = options;
  const jobs = new Set<VoiceJob>();

  const show = async (job: VoiceJob, text: string): Promise<void> => {
    if (job.statusId === null) return;
    await job.chat.outbox.edit(job.chat.chatId, job.statusId, sentence(job.chat, text));
  };

  const run = async (job: VoiceJob, incoming: IncomingBase & { audio: IncomingAudio }): Promise<void> => {
    const { signal } = job.abort;
    try {
      const data = await incoming.audio.download(signal);
      if (data.byteLength > transcriber.maxBytes) {
        await show(job, tooLarge(data.byteLength, transcriber.maxBytes));
        return;
      }
      const result = await transcriber.transcribe(
        { data, mimeType: incoming.audio.mimeType, fileName: incoming.audio.fileName },
        signal,
        // The outbox keeps only the newest of edits still waiting, so every percent may be shown.
        (status) => background.run('voice status', show(job, `🎙 ${status}…`)),
      );
      if (signal.aborted) throw signal.reason;
      if (!result.ok) {
        await show(job, `⚠️ ${result.message}`);
        return;
      }
      const transcript = result.text.trim();
      const shown =
        transcript.length > MAX_TRANSCRIPT_SHOWN
          ? `${transcript.slice(0, MAX_TRANSCRIPT_SHOWN)}…`
          : transcript;
      await show(job, `🎙 "${shown}"`);
      jobs.delete(job);
      await options.submit(job.chat, {
        prompt: transcript,
        messageId: incoming.messageId,
        replyToMessageId: incoming.replyToMessageId,
        alsoLink: job.statusId === null ? [] : [job.statusId],
      });
    } catch (error) {
      if (!signal.aborted) {
        logger.warn({ err: error, chat: job.chat.key }, 'voice note could not be transcribed');
        await show(job, '⚠️ Could not transcribe this voice note. Please try again or type your message.');
      } else if (job.discard && job.statusId !== null) {
        await job.chat.outbox.delete(job.chat.chatId, job.statusId);
      } else {
        await show(job, '⏹ Transcription cancelled.');
      }
    } finally {
      jobs.delete(job);
    }
  };

  return {
    async begin(chat, incoming) {
      const reply = { replyToMessageId: incoming.messageId };
      if (!options.enabled) {
        await chat.outbox.send(
          chat.chatId,
          sentence(
            chat,
            'Voice notes are off on this relay (VOICE_NOTE_ENABLED=false). Please type your message.',
          ),
          reply,
        );
        return;
      }
      const declared = incoming.audio.sizeBytes;
      if (declared !== null && declared > transcriber.maxBytes) {
        await chat.outbox.send(chat.chatId, sentence(chat, tooLarge(declared, transcriber.maxBytes)), reply);
        return;
      }
      const job: VoiceJob = {
        chat,
        voiceMessageId: incoming.messageId,
        statusId: null,
        abort: new AbortController(),
        discard: false,
      };
      jobs.add(job);
      const status = await chat.outbox.send(chat.chatId, sentence(chat, '🎙 Transcribing…'), reply);
      job.statusId = status.messageId;
      background.run('voice note', run(job, incoming));
    },

    cancel(chat, messageId, cancelOptions) {
      let count = 0;
      for (const job of jobs) {
        const matches =
          messageId === null ||
          (job.chat === chat && (job.voiceMessageId === messageId || job.statusId === messageId));
        if (!matches || job.abort.signal.aborted) continue;
        job.discard = cancelOptions.discard;
        job.abort.abort(new Error('cancelled by the user'));
        count += 1;
      }
      return count;
    },

    close() {
      for (const job of jobs) job.abort.abort(new Error('relay shutting down'));
    },
  };
}

function tooLarge(bytes: number, limit: number): string {
  return `⚠️ That audio file is ${formatMegabytes(bytes)}; the limit is ${formatMegabytes(limit)}. Nothing was transcribed.`;
}
