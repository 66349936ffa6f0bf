/**
 * Parsers for apt's two source formats: the one-line `sources.list` style and
 * the deb822 `.sources` style. They only read; choosing a mirror is
 * `debian-mirror.ts`'s job.
 */

/** One repository entry, in either format, normalised to lists. */
export interface AptSourceEntry {
  /** The file it came from and the line its entry starts on, for messages. */
  origin: string;
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

function stripComment(line: string): string {
  const hash = line.indexOf('#');
  return hash === -1 ? line : line.slice(0, hash);
}

/** Parses `deb [opt=val ...] uri suite [component ...]` lines; `deb-src` lines are kept with their type. */
export function parseOneLineSources(text: string, file: string): AptSourceEntry[] {
  const entries: AptSourceEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    let line = stripComment(raw).trim();
    if (!line) return;
    const type = line.split(/\s+/, 1)[0] ?? '';
    line = line.slice(type.length).trim();
    if (line.startsWith('[')) {
      const close = line.indexOf(']');
      if (close === -1) return;
      line = line.slice(close + 1).trim();
    }
    const [uri, suite, ...components] = line.split(/\s+/);
    if (!uri || !suite) return;
    entries.push({ origin: `${file}:${index + 1}`, types: [type], uris: [uri], suites: [suite], components });
  });
  return entries;
}

interface Paragraph {
  line: number;
  fields: Map<string, string>;
}

function deb822Paragraphs(text: string): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | undefined;
  let lastKey: string | undefined;
  text.split('\n').forEach((raw, index) => {
    if (raw.startsWith('#')) return;
    if (!raw.trim()) {
      current = undefined;
      return;
    }
    if (/^\s/.test(raw)) {
      if (current && lastKey) current.fields.set(lastKey, `${current.fields.get(lastKey) ?? ''} ${raw.trim()}`);
      return;
    }
    const colon = raw.indexOf(':');
    if (colon === -1) return;
    if (!current) {
      current = { line: index + 1, fields: new Map() };
      paragraphs.push(current);
    }
    lastKey = raw.slice(0, colon).trim().toLowerCase();
    current.fields.set(lastKey, raw.slice(colon + 1).trim());
  });
  return paragraphs;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

/** Parses deb822 paragraphs (`Types:`, `URIs:`, `Suites:`, `Components:`), dropping `Enabled: no` ones. */
export function parseDeb822Sources(text: string, file: string): AptSourceEntry[] {
  return deb822Paragraphs(text)
    .filter((p) => !/^(no|false|0)$/i.test(p.fields.get('enabled') ?? 'yes'))
    .map((p) => ({
      origin: `${file}:${p.line}`,
      types: words(p.fields.get('types')),
      uris: words(p.fields.get('uris')),
      suites: words(p.fields.get('suites')),
      components: words(p.fields.get('components')),
    }));
}
