import { describe, expect, it } from 'vitest';
import { workLayout } from './work-layout.ts';

describe('workLayout', () => {
  it('refuses a work dir overlayfs cannot mount', () => {
    expect(() => workLayout('/srv/a,b')).toThrow(/must not contain commas, colons or spaces/);
  });

  it("names a build's host-wide resources apart for two work dirs, alike for one", () => {
    const a = workLayout('/srv/farm-a/work');
    const b = workLayout('/srv/farm-b/work');
    // Two farms' first builds share their id; their containers, cgroups and namespaces must not.
    expect(a.hostScoped('t1-amd64-r1-a1')).not.toBe(b.hostScoped('t1-amd64-r1-a1'));
    expect(a.hostScoped('t1-amd64-r1-a1')).toBe(workLayout('/srv/farm-a/work/').hostScoped('t1-amd64-r1-a1'));
    expect(a.hostScoped('t1-amd64-r1-a1')).toMatch(/^t1-amd64-r1-a1-[0-9a-f]{8}$/);
    expect(a.hostScoped('t1-amd64-r1-a1')).not.toBe(a.hostScoped('t1-amd64-r1-a2'));
  });

  it('keeps a long build id apart from another with the same first 40 characters, within 49 characters', () => {
    const layout = workLayout('/srv/work');
    const long = 'x'.repeat(40);
    expect(layout.hostScoped(`${long}-1`)).not.toBe(layout.hostScoped(`${long}-2`));
    // `aoinb-deps-` + this fits nspawn's 64-character machine names.
    expect(layout.hostScoped('y'.repeat(64))).toHaveLength(49);
  });
});
