import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunUsage } from './runner.js';

// What `/metrics` tells Prometheus: requests by route and status, tokens, latency, and the queue and sessions
// right now. One registry per gateway (no global one), so two gateways in a process never mix their figures.

export interface GatewayMetrics {
  request(route: string, status: number, seconds: number): void;
  tokens(usage: RunUsage): void;
  /** The Prometheus text format, and its content type. */
  render(): Promise<{ body: string; contentType: string }>;
}

export function createGatewayMetrics(now: () => { active: number; queued: number }): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'gateway_requests_total',
    help: 'Gateway requests answered, by route and HTTP status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request to the end of its answer, by route.',
    labelNames: ['route'] as const,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'gateway_tokens_total',
    help: 'Tokens of answered requests, as the Claude CLI counted them.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'gateway_queue_depth',
    help: 'Gateway requests waiting for a session.',
    registers: [registry],
    collect() {
      this.set(now().queued);
    },
  });
  new Gauge({
    name: 'gateway_sessions_active',
    help: 'Gateway requests running in a session now.',
    registers: [registry],
    collect() {
      this.set(now().active);
    },
  });
  return {
    request(route, status, seconds) {
      requests.inc({ route, status: String(status) });
      latency.observe({ route }, seconds);
    },
    tokens(usage) {
      tokens.inc({ kind: 'input' }, usage.inputTokens);
      tokens.inc({ kind: 'output' }, usage.outputTokens);
      tokens.inc({ kind: 'cache_read' }, usage.cacheReadTokens);
    },
    async render() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
