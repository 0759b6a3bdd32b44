// The rate-limited, coalescing outbox every chat adapter sends through.

export { type Clock, systemClock } from '../../src/common/index.js';
export { asChatApiCall, ChatApiError, type ChatApiErrorKind } from './errors.js';
export { createOutbox, type Outbox, type OutboxOptions } from './outbox.js';
export { emptyOutboxStats, type OutboxStats, sumOutboxStats } from './stats.js';
export type { ChatFile, ChatTransport } from './transport.js';
