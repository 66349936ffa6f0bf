import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCheckedProxy, type CheckedProxy } from './git-proxy.ts';

/** A TCP server that answers "pong" and counts connections. */
async function pongServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('data', () => socket.end('pong'));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Sends a CONNECT (with the proxy's credential unless `auth` is false), then "ping"; returns everything received. */
function tunnel(proxy: CheckedProxy, target: string, auth = true): Promise<string> {
  const url = new URL(proxy.url);
  const credential = Buffer.from(`${url.username}:${url.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('200 Connection Established\r\n\r\n') && !got.includes('pong')) socket.write('ping');
    });
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    const authorization = auth ? `Proxy-Authorization: Basic ${credential}\r\n` : '';
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authorization}\r\n`);
  });
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the checked proxy git fetches through (https via CONNECT)', () => {
  it('answers only to its own credential and tunnels only to allowed destinations', async () => {
    const server = await pongServer();
    cleanups.push(server.close);
    const base = { maxBytes: 1 << 20, timeoutMs: 10_000, stallMs: 5000 };
    const closed = await startCheckedProxy({ ...base, allow: [] });
    cleanups.push(closed.close);
    expect(await tunnel(closed, `127.0.0.1:${server.port}`, false)).toMatch(/^HTTP\/1.1 407/);
    expect(await tunnel(closed, `127.0.0.1:${server.port}`)).toMatch(/^HTTP\/1.1 403/);
    expect(await tunnel(closed, `localhost:${server.port}`)).toMatch(/^HTTP\/1.1 403/);
    expect(closed.refusals().map((e) => e.message)).toEqual([
      expect.stringContaining(`127.0.0.1:${server.port} resolves to 127.0.0.1, a loopback address`),
      expect.stringMatching(new RegExp(`localhost:${server.port} resolves to .*loopback address`)),
    ]);
    expect(server.connections()).toBe(0);

    const open = await startCheckedProxy({ ...base, allow: [{ host: '127.0.0.1', port: server.port }] });
    cleanups.push(open.close);
    expect(await tunnel(open, `127.0.0.1:${server.port}`)).toBe('HTTP/1.1 200 Connection Established\r\n\r\npong');
    expect(server.connections()).toBe(1);
  });

  it("words its refusals for a build's network, and refuses the control plane an allowlist opens", async () => {
    const server = await pongServer();
    cleanups.push(server.close);
    const proxy = await startCheckedProxy(
      {
        maxBytes: 1 << 20,
        timeoutMs: 10_000,
        stallMs: 5000,
        allow: [{ host: '127.0.0.1' }],
        controlPlane: [{ name: 'Redis', host: '127.0.0.1', port: server.port }],
      },
      { use: 'build-network' },
    );
    cleanups.push(proxy.close);
    expect(await tunnel(proxy, `127.0.0.1:${server.port}`)).toMatch(/^HTTP\/1.1 403/);
    expect(await tunnel(proxy, '10.0.0.1:80')).toMatch(/^HTTP\/1.1 403/);
    expect(proxy.refusals().map((e) => e.message)).toEqual([
      `127.0.0.1:${server.port} resolves to 127.0.0.1, this farm's control plane ` +
        `(Redis at 127.0.0.1:${server.port}); no build may connect to it, whatever [build] source_allow lists`,
      "10.0.0.1:80 resolves to 10.0.0.1, a private address; a build's network reaches only public addresses " +
        "off the host's own networks, unless [build] source_allow lists them",
    ]);
    expect(server.connections()).toBe(0);
  });
});
