// The session engine's public entry: platforms and the composition root import from here only.
export { createSessionEngine, type SessionEngineOptions } from './engine.js';
export { stateOf } from './outcome.js';
export type * from './types.js';
