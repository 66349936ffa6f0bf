import { createServer } from 'node:net';

/**
 * A TCP port on `host` that was free a moment ago (the kernel picks it). Another
 * process may still take it before the caller binds; callers that start servers
 * retry on EADDRINUSE.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not learn the port the kernel picked'))));
    });
  });
}
