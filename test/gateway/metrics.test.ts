import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../src/gateway/metrics.js';

// What the chat's /stats says of the gateway: answered runs with their latency, and failures that are the runs'
// own, not refusals before a run began.

describe('gateway figures', () => {
  it('p50 and p95 are nearest-rank percentiles of the answer times', () => {
    const metrics = createGatewayMetrics(() => ({ active: 0, queued: 0 }));
    for (let seconds = 1; seconds <= 10; seconds++) metrics.request('POST /chat/completions', 200, seconds);
    expect(metrics.snapshot()).toMatchObject({ answered: 10, p50Ms: 5000, p95Ms: 10_000 });
    const one = createGatewayMetrics(() => ({ active: 0, queued: 0 }));
    one.request('POST /messages', 200, 2);
    expect(one.snapshot()).toMatchObject({ p50Ms: 2000, p95Ms: 2000 });
    expect(createGatewayMetrics(() => ({ active: 1, queued: 2 })).snapshot()).toEqual({
      active: 1,
      queued: 2,
      answered: 0,
      failed: 0,
      p50Ms: null,
      p95Ms: null,
    });
  });

  it('a full queue (503), a queue wait past its limit (408) or a bad request is no failed run; 500, 502, 504 are', () => {
    const metrics = createGatewayMetrics(() => ({ active: 0, queued: 0 }));
    for (const status of [400, 401, 404, 408, 413, 503]) metrics.request('POST /chat/completions', status, 0);
    expect(metrics.snapshot().failed).toBe(0);
    for (const status of [500, 502, 504]) metrics.request('POST /responses', status, 1);
    expect(metrics.snapshot()).toMatchObject({ failed: 3, answered: 0 });
  });
});
