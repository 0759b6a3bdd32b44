import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayStatsSnapshot } from '../common/index.js';
import type { RunUsage } from './runner.js';

// What `/metrics` tells Prometheus: requests by route and status, tokens, latency, and the queue and sessions
// right now. One registry per gateway (no global one), so two gateways in a process never mix their figures.

export interface GatewayMetrics {
  request(route: string, status: number, seconds: number): void;
  tokens(usage: RunUsage): void;
  /** The Prometheus text format, and its content type. */
  render(): Promise<{ body: string; contentType: string }>;
  /** For the chat /stats: answered and failed runs, and their latency over the last ones answered. */
  snapshot(): GatewayStatsSnapshot;
}

/** How many of the latest answer times the percentiles are taken over. */
const RECENT = 1000;

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank: the smallest value with at least `fraction` of the values at or below it.
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? null;
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
  let answered = 0;
  let failed = 0;
  const recent: number[] = [];
  return {
    request(route, status, seconds) {
      requests.inc({ route, status: String(status) });
      latency.observe({ route }, seconds);
      // Runs only: a request refused before it ran (400, 401, 404, 503 queue full, 408 queue wait) is not a failed
      // session; a run that failed (502), timed out (504) or broke (500) is.
      if (status === 200 && route.startsWith('POST')) {
        answered++;
        recent.push(seconds * 1000);
        if (recent.length > RECENT) recent.shift();
      } else if (status === 500 || status === 502 || status === 504) failed++;
    },
    snapshot() {
      const sorted = [...recent].sort((a, b) => a - b);
      return { ...now(), answered, failed, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) };
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
