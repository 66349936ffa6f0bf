import type { ApiClient } from '../api.ts';
import { resourceChart } from '../chart.ts';
import { h } from '../dom.ts';
import { between, bytes, duration, when } from '../format.ts';
import { stateBadge } from '../states.ts';
import type { JobView } from '../views.ts';

const phaseOrder = ['prepare', 'instance', 'workspace', 'build', 'collect', 'upload'];

/** Label-value pairs; a null value leaves its pair out. */
export function definition(items: Array<[string, Node | string | null]>): HTMLDListElement {
  return h(
    'dl',
    { class: 'facts' },
    items.filter(([, v]) => v !== null).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

function phases(job: JobView): HTMLElement | null {
  const entries = Object.entries(job.phases_ms).sort(([a], [b]) => phaseOrder.indexOf(a) - phaseOrder.indexOf(b));
  if (entries.length === 0) return null;
  const total = Math.max(
    1,
    entries.reduce((sum, [, ms]) => sum + ms, 0),
  );
  return h(
    'div',
    { class: 'phases' },
    h('h4', null, 'Phases'),
    h(
      'ol',
      { class: 'phase-bar', 'aria-label': 'Time per phase' },
      entries.map(([name, ms]) => {
        const item = h(
          'li',
          { title: `${name}: ${duration(ms / 1000)}` },
          h('span', null, name),
          h('small', null, duration(ms / 1000)),
        );
        // Through the CSSOM: the page's CSP allows no inline style attributes.
        item.style.flexGrow = Math.max(ms / total, 0.04).toFixed(3);
        return item;
      }),
    ),
  );
}

function resources(job: JobView): HTMLElement | null {
  const r = job.resources;
  if (!r) return null;
  return h(
    'div',
    { class: 'resources' },
    h('h4', null, 'Resources'),
    definition([
      [
        'CPU',
        `${r.cpu_seconds.toFixed(1)} s (peak ${r.peak_cpu_cores?.toFixed(2) ?? '–'} cores, ` +
          `average ${r.avg_cpu_cores?.toFixed(2) ?? '–'})`,
      ],
      ['Memory peak', bytes(r.peak_memory_bytes)],
      ['Disk peak', bytes(r.peak_disk_bytes)],
    ]),
    resourceChart(r.samples),
  );
}

/** One package of a build: its file (a link into the repository when published), size, digest, download. */
function artifactRow(api: ApiClient, a: JobView['artifacts'][number]): HTMLElement {
  const download = h(
    'button',
    {
      type: 'button',
      class: 'quiet',
      'data-key': `dl-${a.name}`,
      onclick: () => void api.openProtected(new URL(a.url).pathname, a.name, 'download'),
    },
    'Download',
  );
  return h(
    'tr',
    null,
    h('td', null, a.repo_url ? h('a', { href: a.repo_url, download: a.name }, a.name) : a.name),
    h('td', null, bytes(a.size)),
    h('td', null, h('code', { title: a.sha256 }, `${a.sha256.slice(0, 12)}…`)),
    h('td', null, download),
  );
}

function artifacts(api: ApiClient, job: JobView): HTMLElement | null {
  if (job.artifacts.length === 0) return null;
  return h(
    'div',
    { class: 'artifacts' },
    h('h4', null, 'Packages'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['File', 'Size', 'SHA-256', ''].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          job.artifacts.map((a) => artifactRow(api, a)),
        ),
      ),
    ),
  );
}

/** One build of a task: its facts, phases, resources and packages. */
export function jobCard(api: ApiClient, job: JobView): HTMLElement {
  const took = between(job.started_at, job.finished_at);
  return h(
    'article',
    { class: 'card job', 'data-arch': job.arch },
    h(
      'h3',
      null,
      job.arch,
      ' ',
      stateBadge(job.state),
      job.cancel_requested && !job.finished_at ? h('span', { class: 'muted' }, ' (cancel requested)') : null,
    ),
    definition([
      ['Builder', job.builder ?? '–'],
      ['Run / attempt', `${job.run} / ${job.attempt}`],
      ['Queued', when(job.queued_at)],
      ['Started', when(job.started_at)],
      ['Finished', when(job.finished_at)],
      [job.finished_at ? 'Took' : 'Running for', took === null ? '–' : duration(took)],
      ['Reason', job.reason],
    ]),
    phases(job),
    resources(job),
    artifacts(api, job),
  );
}
