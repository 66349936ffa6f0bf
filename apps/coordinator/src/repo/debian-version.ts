/** dpkg's version order (deb-version(7)): epoch, then upstream and revision compared part by part. */

function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: non-digit runs by `order`, digit runs numerically. */
function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !/\d/.test(a[i] as string)) || (j < b.length && !/\d/.test(b[j] as string))) {
      const ac = i < a.length && !/\d/.test(a[i] as string) ? order(a[i]) : 0;
      const bc = j < b.length && !/\d/.test(b[j] as string) ? order(b[j]) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    let an = '';
    let bn = '';
    while (i < a.length && /\d/.test(a[i] as string)) an += a[i++];
    while (j < b.length && /\d/.test(b[j] as string)) bn += b[j++];
    const diff = Number(an || '0') - Number(bn || '0');
    if (diff !== 0) return diff;
  }
  return 0;
}

function split(version: string): [number, string, string] {
  const colon = version.indexOf(':');
  const epoch = colon > 0 ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ''];
}

/** Negative, zero or positive as `a` sorts before, equal to or after `b` for dpkg. */
export function compareDebianVersions(a: string, b: string): number {
  const [ea, ua, ra] = split(a);
  const [eb, ub, rb] = split(b);
  return ea - eb || comparePart(ua, ub) || comparePart(ra, rb);
}
