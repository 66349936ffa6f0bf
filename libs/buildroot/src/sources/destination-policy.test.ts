import { describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { checkDestination, forbiddenRange, hostNetworkRange } from './destination-policy.ts';

const policy = { allow: [], maxBytes: 1, timeoutMs: 1, stallMs: 1 };

describe('destination policy', () => {
  it('names the non-public ranges, including IPv4 inside IPv6', () => {
    for (const [address, range] of [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.31.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['0.0.0.0', 'this-network'],
      ['224.0.0.1', 'multicast'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fd00::1', 'private (ULA)'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['64:ff9b::a00:1', 'private'],
    ])
      expect(forbiddenRange(address as string), address).toBe(range);
    for (const address of ['1.1.1.1', '151.101.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(forbiddenRange(address), address).toBeUndefined();
  });

  it('allows a listed host by name or address, with its port when the entry has one', async () => {
    await expect(checkDestination('127.0.0.1', 80, policy)).rejects.toMatchObject({ code: 'SOURCE_FORBIDDEN' });
    await expect(checkDestination('[::1]', 80, policy)).rejects.toMatchObject({
      message: expect.stringContaining('::1:80 resolves to ::1, a loopback address'),
    });
    expect(await checkDestination('127.0.0.1', 80, { ...policy, allow: [{ host: '127.0.0.1' }] })).toEqual({
      address: '127.0.0.1',
      family: 4,
    });
    expect(
      await checkDestination('localhost', 8469, { ...policy, allow: [{ host: 'localhost', port: 8469 }] }),
    ).toMatchObject({ family: expect.any(Number) });
    await expect(
      checkDestination('localhost', 8470, { ...policy, allow: [{ host: 'localhost', port: 8469 }] }),
    ).rejects.toMatchObject({ code: 'SOURCE_FORBIDDEN' });
    await expect(checkDestination('no-such-host.invalid', 80, policy)).rejects.toMatchObject({
      code: 'SOURCE_FETCH_FAILED',
      message: expect.stringContaining('cannot resolve no-such-host.invalid'),
    });
  });

  it("refuses the host's own addresses and its directly connected networks, public ones too", async () => {
    const external = Object.entries(networkInterfaces()).flatMap(([name, infos]) =>
      (infos ?? []).filter((i) => !i.internal && i.family === 'IPv4').map((i) => ({ name, ...i })),
    );
    // A build host always has a non-loopback interface; without one there is nothing to check.
    expect(external.length).toBeGreaterThan(0);
    const own = external[0]!;
    expect(hostNetworkRange(own.address)).toBe('an address of this host');
    const last = own.address.split('.').map(Number);
    last[3] = last[3] === 1 ? 2 : 1;
    const neighbour = last.join('.');
    if (Number(own.cidr?.split('/')[1]) <= 30)
      expect(hostNetworkRange(neighbour)).toBe(`an address on the host's LAN (${own.name})`);
    await expect(checkDestination(own.address, 80, policy)).rejects.toThrow(
      /resolves to [\d.]+, an address of this host; sources are not fetched/,
    );
    expect(hostNetworkRange('151.101.1.1')).toBeUndefined();
  });
});
