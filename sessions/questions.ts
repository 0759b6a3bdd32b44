import { encodeAllow, encodeDeny, type PermissionRequest } from './control-protocol.js';
import type { AskedQuestion, ProgressEvent, QuestionAnswer } from './types.js';

// AskUserQuestion and ExitPlanMode as the CLI asks them over the control protocol, and the answers the Agent
// SDK sends back: an allow whose `updatedInput` adds `answers` (question text → chosen label, several joined by
// ", "), an allow of the plan, or a deny that keeps the CLI in plan mode (CONTROL-PROTOCOL.md §6).

export interface OpenQuestion {
  request: PermissionRequest;
  event: Extract<ProgressEvent, { type: 'question' }>;
  timer: NodeJS.Timeout;
}

const MAX_QUESTIONS = 4;
const MAX_OPTIONS = 8;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The questions of an AskUserQuestion input, as far as they have the expected shape (anything else is dropped). */
export function askedQuestions(input: unknown): AskedQuestion[] {
  const list = typeof input === 'object' && input !== null ? Reflect.get(input, 'questions') : undefined;
  if (!Array.isArray(list)) return [];
  const out: AskedQuestion[] = [];
  for (const item of list.slice(0, MAX_QUESTIONS)) {
    if (typeof item !== 'object' || item === null) continue;
    const question = text(Reflect.get(item, 'question'));
    if (question === '') continue;
    const options = Reflect.get(item, 'options');
    out.push({
      question,
      header: text(Reflect.get(item, 'header')),
      multiSelect: Reflect.get(item, 'multiSelect') === true,
      options: (Array.isArray(options) ? options : [])
        .slice(0, MAX_OPTIONS)
        .filter((option): option is object => typeof option === 'object' && option !== null)
        .map((option) => ({
          label: text(Reflect.get(option, 'label')),
          description: text(Reflect.get(option, 'description')),
        }))
        .filter((option) => option.label !== ''),
    });
  }
  return out;
}

const KEEP_PLANNING =
  'The user wants to keep planning: refine the plan with them before asking to exit plan mode again.';

/** The control response for the user's answer, and the answer in words for the chat. */
export function encodeQuestionAnswer(
  open: OpenQuestion,
  answer: QuestionAnswer,
): { line: string; words: string } {
  const { request } = open;
  switch (answer.kind) {
    case 'answers': {
      const input = typeof request.input === 'object' && request.input !== null ? request.input : {};
      return {
        line: encodeAllow({ ...request, input: { ...input, answers: answer.answers } }),
        words: Object.values(answer.answers).join('; '),
      };
    }
    case 'approve_plan':
      return { line: encodeAllow(request), words: 'approved' };
    case 'keep_planning':
      return { line: encodeDeny(request, KEEP_PLANNING), words: 'keep planning' };
  }
}

/** A question without one readable question in it cannot become buttons: the model asks in words instead. */
const UNREADABLE_QUESTION =
  'The question had no readable questions to show as buttons. Write your question in your answer and end your turn; the user will reply.';

export interface QuestionDeskOptions {
  timeoutMs: number;
  /** "5 min": how long the user had, in the words the model sees. */
  spokenTimeout: string;
  send(line: string): boolean;
  emit(event: ProgressEvent): void;
  /** A question ended (answered, expired, cancelled): `cliRequestId` is the CLI's id of it. */
  onEnded(cliRequestId: string): void;
}

/** The open questions of one run, under ids the permission broker gives them (shared with its prompts). */
export interface QuestionDesk {
  readonly size: number;
  has(id: string): boolean;
  /** False when the request holds nothing to ask: it was declined with a note at once. */
  open(id: string, request: PermissionRequest): boolean;
  answer(id: string, answer: QuestionAnswer): boolean;
  cancel(id: string): boolean;
  cancelAll(): void;
}

/** Said to the model when it asks again in a run whose last question went unanswered. */
export const USER_AWAY =
  'The user did not answer your last question in time and may be away: do not ask again in this task. Decide with your best judgement, say what you assumed, and carry on.';

export function createQuestionDesk(options: QuestionDeskOptions): QuestionDesk {
  const questions = new Map<string, OpenQuestion>();
  /**
   * A question of this run expired: the user is likely away, so later ones are declined at once rather than
   * each holding the task (and its session slot) for the whole timeout again.
   */
  let userAway = false;

  const end = (
    id: string,
    status: 'answered' | 'expired' | 'cancelled',
    line: string | null,
    answer?: string,
  ): boolean => {
    const open = questions.get(id);
    if (open === undefined) return false;
    clearTimeout(open.timer);
    questions.delete(id);
    if (line !== null) options.send(line);
    options.emit({ ...open.event, status, ...(answer === undefined ? {} : { answer }) });
    options.onEnded(open.request.requestId);
    return true;
  };

  return {
    get size() {
      return questions.size;
    },
    has: (id) => questions.has(id),
    open(id, request) {
      const kind: 'ask' | 'plan' = request.toolName === 'AskUserQuestion' ? 'ask' : 'plan';
      const asked = kind === 'ask' ? askedQuestions(request.input) : [];
      if (kind === 'ask' && asked.length === 0) {
        options.send(encodeDeny(request, UNREADABLE_QUESTION));
        return false;
      }
      if (kind === 'ask' && userAway) {
        options.send(encodeDeny(request, USER_AWAY));
        return false;
      }
      // Nobody answering in time is a refusal, as for a permission prompt.
      const timer = setTimeout(() => {
        if (kind === 'ask') userAway = true;
        const message = `No answer in ${options.spokenTimeout}: the user did not answer.`;
        end(id, 'expired', encodeDeny(request, message));
      }, options.timeoutMs);
      const event = {
        type: 'question' as const,
        requestId: id,
        kind,
        questions: asked,
        plan: kind === 'plan' ? planOf(request.input) : '',
        status: 'pending' as const,
      };
      questions.set(id, { request, event, timer });
      options.emit(event);
      return true;
    },
    answer(id, answer) {
      const open = questions.get(id);
      if (open === undefined) return false;
      const { line, words } = encodeQuestionAnswer(open, answer);
      return end(id, 'answered', line, words);
    },
    cancel: (id) => end(id, 'cancelled', null),
    cancelAll() {
      for (const id of [...questions.keys()]) end(id, 'cancelled', null);
    },
  };
}

function planOf(input: unknown): string {
  const plan = typeof input === 'object' && input !== null ? Reflect.get(input, 'plan') : undefined;
  return typeof plan === 'string' ? plan : '';
}
