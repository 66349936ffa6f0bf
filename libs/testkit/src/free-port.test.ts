import { readFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './free-port.ts';

/** Whether /proc/net/tcp lists a socket of 127.0.0.1:`port` in TIME_WAIT (state 06). */
async function inTimeWait(port: number): Promise<boolean> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const rows = (await readFile('/proc/net/tcp', 'utf8')).split('\n').map((row) => row.trim().split(/\s+/));
  return rows.some((cols) => cols[1] === local && cols[3] === '06');
}

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const refused = (port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

describe('freePort', () => {
  it("holds the port back from other servers' bind(0), and lets a server bind it by number", async () => {
    const port = await freePort();
    expect(await inTimeWait(port)).toBe(true);
    expect(await refused(port)).toBe('ECONNREFUSED');
    // Servers of other test files ask the kernel for any port: none is handed this one.
    const others = await Promise.all(Array.from({ length: 500 }, () => listen(0)));
    const ports = others.map((s) => (s.address() as { port: number }).port);
    await Promise.all(others.map(close));
    expect(ports).not.toContain(port);
    // The server the port was meant for gets it.
    const own = await listen(port);
    expect((own.address() as { port: number }).port).toBe(port);
    await close(own);
  });

  it('gives two callers two ports', async () => {
    const [a, b] = await Promise.all([freePort(), freePort()]);
    expect(a).not.toBe(b);
  });
});
