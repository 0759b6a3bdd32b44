import { createServer, type Socket } from 'node:net';

// An upstream (a fake of an EXTERNAL service) that accepts connections and then never reads or answers, the
// way a wedged provider or a black-holed load balancer behaves: only a write or read timeout ends the call.

export async function startDeafUpstream(): Promise<{
  url: string;
  connections: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.pause(); // never read: the kernel buffers fill and the sender's writes stall
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket)); // the proxy's abort resets the connection
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
