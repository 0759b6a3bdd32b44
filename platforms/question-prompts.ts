import type { Logger } from 'pino';
import type {
  AskedQuestion,
  MessageRef,
  NodeSnapshot,
  ProgressEvent,
  QuestionAnswer,
  SessionEngine,
} from '../sessions/index.js';
import { type Background, type ChatContext, refOf } from './chat-context.js';
import { type ChatButton, type Formatted, renderMarkdown } from './render/index.js';

// The model's questions (AskUserQuestion) and plans (ExitPlanMode) as buttons. Each question is a message with
// its options as buttons: one tap answers a single-choice question, a multi-choice one takes taps then Done, and
// "Other…" takes the user's next message in the chat as the answer. When every question has its answer they go
// back to the CLI together. A plan shows with Approve / Keep planning. Button data carries the node and request
// ids (under Telegram's 64 bytes), so a stale press is simply refused.

type QuestionEvent = Extract<ProgressEvent, { type: 'question' }>;

export interface QuestionPrompts {
  /** A button press; `null` when the button is not a question button. */
  press(data: string): Promise<string | null>;
  /** Whether the chat's next text answers a question (its "Other…" was tapped). */
  expectsTyped(chat: ChatContext): boolean;
  /** That text as the answer; false when no question waits for it any more. */
  takeTyped(chat: ChatContext, messageId: string, text: string): Promise<boolean>;
  /**
   * A text sent as a reply to an open question's message: its answer, as if "Other…" had been tapped. False
   * when the message is no open question (the reply is then a task, as any reply).
   */
  takeReply(chat: ChatContext, replyToMessageId: string, messageId: string, text: string): Promise<boolean>;
  close(): void;
}

interface OpenQuestions {
  nodeId: string;
  chat: ChatContext;
  anchor: string;
  event: QuestionEvent;
  /** Per question: its message once sent (null if it could not be), the labels chosen, answered or not. */
  messages: Array<Promise<string | null>>;
  chosen: string[][];
  answered: boolean[];
  /** A plan's last message as sent (the one with the buttons): kept, so the answer is added to it, not re-split. */
  planTail?: Formatted;
}

const PREFIX = 'q:';
const OTHER_LABEL = 'Other…';
const BUTTON_LABEL_KEPT = 40;

function data(op: string, open: OpenQuestions, index = 0, option = 0): string {
  return `${PREFIX}${op}:${open.nodeId}:${open.event.requestId}:${index}:${option}`;
}

function parseData(value: string): { op: string; key: string; index: number; option: number } | null {
  const match = /^q:([oxdak]):([^:]+):([^:]+):(\d):(\d+)$/.exec(value);
  if (!match) return null;
  return { op: match[1]!, key: `${match[2]}:${match[3]}`, index: Number(match[4]), option: Number(match[5]) };
}

const short = (label: string): string =>
  label.length > BUTTON_LABEL_KEPT ? `${label.slice(0, BUTTON_LABEL_KEPT - 1)}…` : label;

function questionText(question: AskedQuestion, chosen: string[] | null, chat: ChatContext): Formatted {
  const { dialect } = chat.platform.limits;
  const head = `❓ ${question.header ? `${question.header}: ` : ''}${question.question}`;
  const options = question.options.map(
    (option) => `• ${option.label}${option.description ? ` — ${option.description}` : ''}`,
  );
  const tail =
    chosen !== null
      ? `✅ Answered: ${chosen.join(', ')}`
      : question.multiSelect
        ? `Tap every answer that applies, then Done; or ${OTHER_LABEL} to type one.`
        : `Tap an answer, or ${OTHER_LABEL} to type one.`;
  const lines = [head, ...options, tail];
  const budget = chat.platform.limits.maxLength;
  const plain = lines.join('\n').slice(0, budget);
  const formatted = [
    dialect.bold(dialect.escape(head)),
    ...options.map((line) => dialect.escape(line)),
    dialect.italic(dialect.escape(tail)),
  ].join('\n');
  return formatted.length <= budget
    ? { formatted, plain }
    : { formatted: dialect.escape(plain.slice(0, budget / 6)), plain };
}

function questionButtons(open: OpenQuestions, index: number): ChatButton[] {
  const question = open.event.questions[index]!;
  const chosen = open.chosen[index]!;
  const buttons: ChatButton[] = question.options.map((option, at) => ({
    id: data('o', open, index, at),
    label: short(`${chosen.includes(option.label) ? '✓ ' : ''}${option.label}`),
    style: chosen.includes(option.label) ? 'success' : 'primary',
  }));
  buttons.push({ id: data('x', open, index), label: OTHER_LABEL, style: 'secondary' });
  if (question.multiSelect) buttons.push({ id: data('d', open, index), label: 'Done', style: 'success' });
  return buttons;
}

export function createQuestionPrompts(options: {
  engine: SessionEngine;
  chatFor(ref: MessageRef): ChatContext | undefined;
  background: Background;
  logger: Logger;
}): QuestionPrompts {
  const { engine, background } = options;
  const open = new Map<string, OpenQuestions>();
  /** Per chat: the question whose "Other…" was tapped last, waiting for the user's next message. */
  const typing = new Map<string, { key: string; index: number }>();

  const { send, edit } = questionMessages(options);

  const opened = (node: NodeSnapshot, event: QuestionEvent): void => {
    const anchor =
      node.messages.find((m) => m.role === 'status') ?? node.messages.find((m) => m.role === 'prompt');
    const chat = anchor ? options.chatFor(anchor.ref) : undefined;
    if (!anchor || !chat) return;
    const count = event.kind === 'plan' ? 1 : event.questions.length;
    const entry: OpenQuestions = {
      nodeId: node.id,
      chat,
      anchor: anchor.ref.messageId,
      event,
      messages: [],
      chosen: Array.from({ length: count }, () => []),
      answered: Array.from({ length: count }, () => false),
    };
    open.set(`${node.id}:${event.requestId}`, entry);
    background.run(
      'question',
      postMessages(entry, (content) => send(entry, content)),
    );
  };

  const ended = (node: NodeSnapshot, event: QuestionEvent): void => {
    const key = `${node.id}:${event.requestId}`;
    const entry = open.get(key);
    if (!entry) return;
    open.delete(key);
    for (const [chatKey, waiting] of typing) if (waiting.key === key) typing.delete(chatKey);
    for (const index of entry.messages.keys()) {
      if (event.kind === 'ask' && entry.answered[index]) continue;
      edit(entry, index, { ...endedText(entry, event, index), buttons: [] });
    }
  };

  const unsubscribe = engine.subscribe((node, event) => {
    if (event.type !== 'question') return;
    if (event.status === 'pending') opened(node, event);
    else ended(node, event);
  });

  const submitIfDone = async (entry: OpenQuestions): Promise<string> => {
    if (!entry.answered.every(Boolean)) return 'Noted: answer the other questions too.';
    const answers: Record<string, string> = {};
    for (const [index, question] of entry.event.questions.entries()) {
      answers[question.question] = entry.chosen[index]!.join(', ');
    }
    return (await engine.answerQuestion(entry.nodeId, entry.event.requestId, { kind: 'answers', answers }))
      ? 'Answered.'
      : 'This question is no longer open.';
  };

  const answerOne = (entry: OpenQuestions, index: number): Promise<string> => {
    entry.answered[index] = true;
    const question = entry.event.questions[index]!;
    edit(entry, index, { ...questionText(question, entry.chosen[index]!, entry.chat), buttons: [] });
    return submitIfDone(entry);
  };

  const answerPlan = async (entry: OpenQuestions, answer: QuestionAnswer): Promise<string> => {
    const ok = await engine.answerQuestion(entry.nodeId, entry.event.requestId, answer);
    if (!ok) return 'This plan is no longer waiting.';
    return answer.kind === 'approve_plan' ? 'Plan approved.' : 'Claude keeps planning.';
  };

  /** Text the user wrote as a question's answer (after the options they tapped), and the note that says so. */
  const typedAnswer = async (
    chat: ChatContext,
    entry: OpenQuestions,
    index: number,
    messageId: string,
    text: string,
  ): Promise<void> => {
    entry.chosen[index] = [...entry.chosen[index]!, text.trim()];
    const note = await answerOne(entry, index);
    await chat.outbox.send(
      chat.chatId,
      { formatted: chat.platform.limits.dialect.escape(note), plain: note },
      { replyToMessageId: messageId },
    );
  };

  return {
    async press(value) {
      if (!value.startsWith(PREFIX)) return null;
      const parsed = parseData(value);
      const entry = parsed ? open.get(parsed.key) : undefined;
      if (!parsed || !entry) return 'This question is no longer open.';
      const { op, index, option } = parsed;
      if (op === 'a') return answerPlan(entry, { kind: 'approve_plan' });
      if (op === 'k') return answerPlan(entry, { kind: 'keep_planning' });
      const question = entry.event.questions[index];
      if (!question || entry.answered[index]) return 'This question is already answered.';
      if (op === 'x') {
        typing.set(entry.chat.key, { key: parsed.key, index });
        return 'Send your answer as your next message.';
      }
      if (op === 'd') {
        if (entry.chosen[index]!.length === 0) return `Tap at least one answer first, or ${OTHER_LABEL}`;
        return answerOne(entry, index);
      }
      return tapOption(entry, index, option, {
        answerOne,
        redraw: (at) =>
          edit(entry, at, {
            ...questionText(question, null, entry.chat),
            buttons: questionButtons(entry, at),
          }),
      });
    },

    expectsTyped: (chat) => typing.has(chat.key),

    async takeTyped(chat, messageId, text) {
      const waiting = typing.get(chat.key);
      const entry = waiting ? open.get(waiting.key) : undefined;
      if (!waiting || !entry) return false;
      typing.delete(chat.key);
      await typedAnswer(chat, entry, waiting.index, messageId, text);
      return true;
    },

    async takeReply(chat, replyToMessageId, messageId, text) {
      for (const [key, entry] of open) {
        if (entry.chat.key !== chat.key || entry.event.kind !== 'ask') continue;
        const sent = await Promise.all(entry.messages);
        const index = sent.indexOf(replyToMessageId);
        if (index < 0 || entry.answered[index] || !open.has(key)) continue;
        const waiting = typing.get(chat.key);
        if (waiting?.key === key && waiting.index === index) typing.delete(chat.key);
        await typedAnswer(chat, entry, index, messageId, text);
        return true;
      }
      return false;
    },

    close() {
      unsubscribe();
    },
  };
}

/** A question's messages: sent as replies to the task and linked to it, and edited once they exist. */
function questionMessages(options: { engine: SessionEngine; background: Background; logger: Logger }) {
  const { engine, background, logger } = options;
  return {
    async send(entry: OpenQuestions, content: Formatted): Promise<string | null> {
      try {
        const sent = await entry.chat.outbox.send(entry.chat.chatId, content, {
          replyToMessageId: entry.anchor,
        });
        await engine.linkMessage(entry.nodeId, refOf(entry.chat, sent.messageId), 'continuation');
        return sent.messageId;
      } catch (error) {
        logger.error({ err: error, nodeId: entry.nodeId }, 'could not send a question');
        return null;
      }
    },
    /** A tap can come before the message's send has resolved here: the edit waits for it. */
    edit(entry: OpenQuestions, index: number, content: Formatted): void {
      const message = entry.messages[index];
      if (message === undefined) return;
      background.run(
        'question edit',
        message.then((messageId) =>
          messageId === null ? undefined : entry.chat.outbox.edit(entry.chat.chatId, messageId, content),
        ),
      );
    },
  };
}

/**
 * Sends the question's messages in order, each after the one before, with every message's promise known at once
 * (a tap may come before its send resolves here). Resolves when all are sent.
 */
function postMessages(
  entry: OpenQuestions,
  send: (content: Formatted) => Promise<string | null>,
): Promise<unknown> {
  let previous: Promise<unknown> = Promise.resolve();
  const queue = (content: Formatted): Promise<string | null> => {
    const sent = previous.then(() => send(content));
    previous = sent;
    return sent;
  };
  const { event, chat } = entry;
  if (event.kind === 'plan') {
    const parts = planParts(event.plan, chat);
    for (const part of parts.slice(0, -1)) void queue(part);
    entry.planTail = parts.at(-1)!;
    entry.messages.push(queue({ ...entry.planTail, buttons: planButtons(entry) }));
  } else {
    for (const [index, question] of event.questions.entries()) {
      entry.messages.push(
        queue({ ...questionText(question, null, chat), buttons: questionButtons(entry, index) }),
      );
    }
  }
  return previous;
}

/** What a question's message says once it is over: the question, and how it ended; a plan keeps its text. */
function endedText(entry: OpenQuestions, event: QuestionEvent, index: number): Formatted {
  const how =
    event.status === 'answered'
      ? `✅ Answered: ${event.answer ?? ''}`
      : event.status === 'expired'
        ? '⌛ No answer in time.'
        : '⏹ The task stopped before an answer.';
  const tail = entry.planTail;
  if (event.kind === 'plan' && tail !== undefined) {
    // Its part of the plan stays as sent, the answer under it (within the chat's limit, else the answer alone).
    const { dialect, maxLength } = entry.chat.platform.limits;
    const formatted = `${tail.formatted}\n\n${dialect.escape(how)}`;
    if (formatted.length <= maxLength) return { formatted, plain: `${tail.plain}\n\n${how}` };
  }
  const question = entry.event.questions[index];
  const lead = question ? `❓ ${question.question}\n` : event.kind === 'plan' ? '📝 The plan\n' : '';
  return { formatted: entry.chat.platform.limits.dialect.escape(`${lead}${how}`), plain: `${lead}${how}` };
}

/** A tap on one of a question's options: a single choice answers it, a multiple one toggles the option. */
function tapOption(
  entry: OpenQuestions,
  index: number,
  option: number,
  acts: { answerOne(entry: OpenQuestions, index: number): Promise<string>; redraw(index: number): void },
): Promise<string> | string {
  const question = entry.event.questions[index]!;
  const label = question.options[option]?.label;
  if (label === undefined) return 'This answer is no longer offered.';
  if (!question.multiSelect) {
    entry.chosen[index] = [label];
    return acts.answerOne(entry, index);
  }
  const chosen = entry.chosen[index]!;
  entry.chosen[index] = chosen.includes(label) ? chosen.filter((l) => l !== label) : [...chosen, label];
  acts.redraw(index);
  return entry.chosen[index]!.includes(label) ? `Chosen: ${label}` : `Unchosen: ${label}`;
}

function planButtons(entry: OpenQuestions): ChatButton[] {
  return [
    { id: data('a', entry), label: 'Approve', style: 'success' },
    { id: data('k', entry), label: 'Keep planning', style: 'secondary' },
  ];
}

/** The plan as the model wrote it (Markdown), under a heading, split to the chat's limit. */
function planParts(plan: string, chat: ChatContext): Formatted[] {
  const body = plan.trim() || '_The plan is in the conversation above._';
  const markdown = `📝 **Claude’s plan, waiting for your approval:**\n\n${body}\n\n_Approve it to let Claude start, or keep planning._`;
  return renderMarkdown(markdown, chat.platform.limits);
}
