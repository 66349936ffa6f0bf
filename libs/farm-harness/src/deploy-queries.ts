import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

const deployDir = path.resolve(import.meta.dirname, '../../../deploy');

export const alertRulesFile = path.join(deployDir, 'prometheus/rules/aoinb.rules.yml');

export interface DeployQuery {
  /** Where it comes from, for messages: `rule AoinbRedisDown`, `panel Backlog per arch / A`. */
  where: string;
  expr: string;
}

/** The PromQL of every alert rule in deploy/prometheus/rules. */
export async function alertRuleQueries(): Promise<DeployQuery[]> {
  const doc = parse(await readFile(alertRulesFile, 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
  };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })));
}

interface DashboardPanel {
  title: string;
  targets?: Array<{ refId: string; expr: string }>;
}

/** The PromQL of every panel target of the Grafana dashboard, and its templating queries. */
export async function dashboardQueries(): Promise<{ panels: DeployQuery[]; variables: DeployQuery[] }> {
  const dashboard = JSON.parse(await readFile(path.join(deployDir, 'grafana/dashboards/aoinb-farm.json'), 'utf8')) as {
    panels: DashboardPanel[];
    templating: { list: Array<{ name: string; type: string; query?: { query: string } | string }> };
  };
  const panels = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel ${p.title} / ${t.refId}`, expr: t.expr })),
  );
  const variables = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({
      where: `variable ${v.name}`,
      expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? ''),
    }));
  return { panels, variables };
}

/** A dashboard expression as Grafana would send it: its variables replaced by what "All" and a 1 m rate window mean. */
export function asGrafanaSends(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$arch', '.*');
}
