import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { grafanaQueryMetricNames, promqlMetricNames } from '@aoinb/testkit';
import { deployDir } from './deploy-paths.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

/**
 * The Grafana dashboard, checked structurally (Grafana is not a Debian
 * package, so it is not run here); that every query is valid PromQL on live
 * series is checked by apps/coordinator/src/metrics/observability.test.ts.
 */
describe('deploy/grafana/dashboards/aoinb-farm.json', async () => {
  const dashboard = JSON.parse(await readFile(path.join(deployDir, 'grafana/dashboards/aoinb-farm.json'), 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query: unknown }> };
  };

  it('has a stable uid, a datasource variable and an arch variable', () => {
    expect(dashboard.uid).toBe('aoinb-farm');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.arch).toMatchObject({ type: 'query' });
    expect(grafanaQueryMetricNames((vars.arch!.query as { query: string }).query)).toEqual(['aoinb_queue_jobs']);
  });

  it('lays out its panels on the 24-column grid without overlaps, each querying the datasource variable', () => {
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(ids.has(panel.id), `panel id ${panel.id} is unique`).toBe(false);
      ids.add(panel.id);
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i += 1) {
        for (let j = y; j < y + h; j += 1) {
          expect(cells.has(`${i},${j}`), `${panel.title} overlaps another panel at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets ?? []) {
        expect(t.datasource?.uid, `${panel.title} ${t.refId}`).toBe('${datasource}');
        expect(promqlMetricNames(t.expr).length, `${panel.title}: ${t.expr}`).toBeGreaterThan(0);
      }
    }
    // Every panel type used is one Grafana ships.
    expect(
      [...new Set(dashboard.panels.map((p) => p.type))].every((t) =>
        ['row', 'timeseries', 'stat', 'table'].includes(t),
      ),
    ).toBe(true);
  });
});
