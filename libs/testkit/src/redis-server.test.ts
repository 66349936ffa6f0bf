import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startRedis } from './redis-server.ts';

/** Sends one inline command and returns the reply: a status line, or a bulk string's value ('' for nil). */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no reply to ${line}`)));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const lines = reply.split('\r\n');
      const bulk = reply.startsWith('$') && !reply.startsWith('$-1');
      if (lines.length > (bulk ? 2 : 1)) {
        socket.destroy();
        resolve(bulk ? (lines[1] ?? '') : reply.startsWith('$-1') ? '' : (lines[0] ?? ''));
      }
    });
  });
}

describe('startRedis', () => {
  it('runs a real redis-server on a free loopback port and stops it', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(await command(redis.port, 'PING')).toBe('+PONG');
      expect(await command(redis.port, 'SET aoinb:test hello')).toBe('+OK');
      expect(await command(redis.port, 'GET aoinb:test')).toBe('hello');
      expect(await command(redis.port, 'DBSIZE')).toBe(':1');
    } finally {
      await redis.stop();
    }
    await expect(command(redis.port, 'PING')).rejects.toThrow(/ECONNREFUSED/);
    await expect(access(redis.dir)).rejects.toThrow();
    await redis.stop();
  });

  it('gives two servers two ports', async () => {
    const [a, b] = await Promise.all([startRedis(), startRedis()]);
    try {
      expect(a.port).not.toBe(b.port);
      await command(a.port, 'SET k a');
      expect(await command(b.port, 'GET k')).toBe('');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('never hands out another server that holds the port (test files run in parallel)', async () => {
    const other = await startRedis();
    try {
      // A PING on the port is answered, by `other`; the new server itself could not bind it.
      await expect(startRedis({ port: other.port, timeoutMs: 3000 })).rejects.toThrow(/Address already in use/);
      expect(await command(other.port, 'PING')).toBe('+PONG');
    } finally {
      await other.stop();
    }
  });
});
