// The rate-limited, coalescing outbox every chat adapter sends through.

export { type Clock, systemClock } from './clock.js';
export { ChatApiError, type ChatApiErrorKind } from './errors.js';
export {
  type ChatTransport,
  createOutbox,
  type Outbox,
  type OutboxOptions,
  type OutboxStats,
} from './outbox.js';
