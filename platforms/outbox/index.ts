// The rate-limited, coalescing outbox every chat adapter sends through.

export { type Clock, systemClock } from '../../src/common/index.js';
export { ChatApiError, type ChatApiErrorKind } from './errors.js';
export {
  type ChatTransport,
  createOutbox,
  emptyOutboxStats,
  type Outbox,
  type OutboxOptions,
  type OutboxStats,
  sumOutboxStats,
} from './outbox.js';
