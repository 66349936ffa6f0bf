/** PromQL words that are not metric names. */
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Not a parser: it drops string
 * literals, label matchers (`{...}`), ranges (`[5m]`), grouping lists
 * (`by (...)`, `on (...)`, ...) and function names, then keeps the
 * identifiers left. Enough for the expressions of alert rules and dashboards;
 * Grafana variables (`$arch`, `$__rate_interval`) sit inside matchers and
 * ranges, so they are dropped with them.
 */
export function promqlMetricNames(expr: string): string[] {
  let text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/#[^\n]*/g, ' ');
  text = text.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    const after = text.slice((match.index ?? 0) + word.length).trimStart();
    const before = text.slice(0, match.index ?? 0);
    if (after.startsWith('(')) continue;
    if (keywords.has(word.toLowerCase())) continue;
    // Part of a number or duration: 1e3, 0x1f, 1h30m.
    if (/[0-9.]$/.test(before)) continue;
    names.add(word);
  }
  return [...names].sort();
}

/**
 * Metric names a Grafana templating query uses: `label_values(metric, label)`, `query_result(expr)`, or plain PromQL.
 */
export function grafanaQueryMetricNames(query: string): string[] {
  const labelValues = /^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?)\s*,/.exec(query);
  if (labelValues) return promqlMetricNames(labelValues[1] as string);
  if (/^\s*label_values\(\s*[A-Za-z_]+\s*\)\s*$/.test(query) || /^\s*label_names\(/.test(query)) return [];
  const result = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  return promqlMetricNames(result ? (result[1] as string) : query);
}
