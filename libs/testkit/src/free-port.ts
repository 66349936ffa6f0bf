import { connect, createServer } from 'node:net';

/**
 * A TCP port on `host` that the kernel just handed out, held back from everyone else's `bind(0)` for a
 * minute: the port is left in TIME_WAIT by one connection to itself, closed from its own side first. The
 * kernel never picks a port in TIME_WAIT for another `bind(0)` (another test file's server), while a server
 * that binds it by number with SO_REUSEADDR (node, redis-server, nginx, Go servers all set it) gets it.
 * So a port written into a config now is still free when the process that reads the config binds it,
 * however long the test takes to start it. Nothing listens on it meanwhile: a connect is refused.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.once('connection', (accepted) => {
      // This side closes first, so this side (the port itself) is the one left in TIME_WAIT.
      accepted.once('close', () => server.close(() => resolve(port)));
      accepted.resume();
      accepted.end();
    });
    let port = 0;
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : 0;
      if (!port) return server.close(() => reject(new Error('could not learn the port the kernel picked')));
      const client = connect({ host, port });
      client.once('error', (error) => server.close(() => reject(error)));
      client.resume();
      client.once('end', () => client.end());
    });
  });
}
