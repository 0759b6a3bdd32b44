import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertAnthropicStream, parseAnthropicSse } from '../../src/proxy/index.js';

// A recording pass-through between the real CLI and the proxy, so end-to-end tests can hold every stream the
// CLI received to the Anthropic stream contract.

export interface TappedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: string;
}

export async function startTap(target: string) {
  const responses: TappedResponse[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => {
          parts.push(part);
          res.write(part);
        });
        answer.on('end', () => {
          responses.push({
            method: req.method ?? '',
            path: req.url ?? '',
            status: answer.statusCode ?? 0,
            contentType: String(answer.headers['content-type'] ?? ''),
            body: Buffer.concat(parts).toString('utf8'),
          });
          res.end();
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    responses,
    /** Every SSE answer must satisfy the contract; returns how many were checked. */
    assertStreams(options: { allowError?: boolean } = {}): number {
      const streams = responses.filter((r) => r.contentType.startsWith('text/event-stream'));
      for (const stream of streams) assertAnthropicStream(parseAnthropicSse(stream.body), options);
      return streams.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
