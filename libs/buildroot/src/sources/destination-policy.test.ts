import { describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { checkDestination, controlPlaneAt, forbiddenRange, hostNetworkRange } from './destination-policy.ts';

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

  it('words a refusal for its use: the sources of a bundle, or a build allowed a network', async () => {
    await expect(checkDestination('10.1.2.3', 80, policy)).rejects.toThrow(
      '10.1.2.3:80 resolves to 10.1.2.3, a private address; sources are not fetched from loopback, link-local, ' +
        "private or the host's own networks unless [build] source_allow lists them",
    );
    await expect(checkDestination('10.1.2.3', 80, policy, 'build-network')).rejects.toThrow(
      "10.1.2.3:80 resolves to 10.1.2.3, a private address; a build's network reaches only public addresses " +
        "off the host's own networks, unless [build] source_allow lists them",
    );
  });

  it("refuses the farm's control plane whatever source_allow lists, on every address of this host", async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === 'IPv4')!.address;
    const controlPlane = [
      { name: 'the coordinator', host: '127.0.0.1', port: 8460 },
      { name: 'Redis', host: 'localhost', port: 6379 },
      { name: "the worker's metrics", host: '0.0.0.0', port: 9464 },
      { name: 'Redis', host: '203.0.113.7', port: 6380 },
    ];
    // An operator's allowlist that opens this host (a local mirror) still leaves the control plane shut.
    const open = { ...policy, allow: [{ host: '127.0.0.1' }, { host: own }, { host: 'localhost' }], controlPlane };
    await expect(checkDestination('127.0.0.1', 8460, open, 'build-network')).rejects.toMatchObject({
      code: 'SOURCE_FORBIDDEN',
      message:
        "127.0.0.1:8460 resolves to 127.0.0.1, this farm's control plane (the coordinator at 127.0.0.1:8460); " +
        'no build may connect to it, whatever [build] source_allow lists',
    });
    await expect(checkDestination(own, 8460, open, 'build-network')).rejects.toThrow(
      /control plane \(the coordinator at/,
    );
    await expect(checkDestination('[::ffff:127.0.0.1]', 6379, open)).rejects.toThrow(
      /, this farm's control plane \(Redis at localhost:6379\); no source is fetched from it/,
    );
    await expect(checkDestination(own, 9464, open)).rejects.toThrow(
      /control plane \(the worker's metrics at 0\.0\.0\.0:9464\)/,
    );
    // A public control plane: the range rules would let it through, the control-plane rule does not.
    expect(await checkDestination('203.0.113.7', 6380, policy)).toEqual({ address: '203.0.113.7', family: 4 });
    await expect(checkDestination('203.0.113.7', 6380, { ...policy, controlPlane })).rejects.toThrow(
      "203.0.113.7:6380 resolves to 203.0.113.7, this farm's control plane (Redis at 203.0.113.7:6380); " +
        'no source is fetched from it',
    );
    expect(await controlPlaneAt('203.0.113.7', 6380, controlPlane)).toMatchObject({ name: 'Redis' });
    expect(await controlPlaneAt('203.0.113.7', 443, controlPlane)).toBeUndefined();
    // Other ports of the same host stay as source_allow says.
    expect(await checkDestination('127.0.0.1', 8000, open, 'build-network')).toEqual({
      address: '127.0.0.1',
      family: 4,
    });
  });
});
