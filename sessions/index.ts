// The session engine's public entry: platforms and the composition root import from here only.
export { createSessionEngine, type SessionEngineOptions } from './engine.js';
export { stateOf } from './outcome.js';
// The pool of CLI slots, for callers that will share it with chat (a gateway's API requests).
export {
  createPool,
  type EnqueueResult,
  type Pool,
  type PoolCounts,
  type PoolEntry,
  type PoolOptions,
  type Priority,
} from './pool.js';
// CLAUDE_SANDBOX as users read it (start-up line, /stats).
export { describeSandbox, type SandboxStatus } from './sandbox.js';
export type * from './types.js';
