import type { Logger } from '../src/log.js';
import { snapshotOf } from './node-model.js';
import type { EngineListener, NodeSnapshot, ProgressEvent } from './types.js';

// The engine's subscribers. Each event goes to every listener with one detached copy of the node; a listener
// that throws is logged and the others, and the run, go on.

export interface Listeners {
  emit(node: NodeSnapshot, event: ProgressEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: EngineListener): () => void;
}

export function createListeners(logger: Logger): Listeners {
  const listeners = new Set<EngineListener>();
  return {
    emit(node, event) {
      if (listeners.size === 0) return;
      const view = snapshotOf(node);
      for (const listener of listeners) {
        try {
          listener(view, event);
        } catch (error) {
          logger.error({ err: error, nodeId: node.id }, 'engine listener threw');
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
