import { api } from './api.ts';
import { h, replaceKeepingFocus } from './dom.ts';
import { session } from './session.ts';
import type { FarmInfo, QueueCounts } from './views.ts';

export type { FarmInfo };

const sections = [
  { route: '/tasks', label: 'Tasks' },
  { route: '/groups', label: 'Groups' },
  { route: '/builders', label: 'Builders' },
];

/** The frame of every signed-in page: skip link, navigation, queue depth per arch, Grafana, who is signed in. */
export function renderFrame(
  root: HTMLElement,
  farm: FarmInfo,
  onSignOut: () => void,
): { main: HTMLElement; queues: HTMLElement; setSection(route: string): void } {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const queues = h('div', { class: 'queues', 'aria-live': 'off' });
  const nav = h(
    'nav',
    { 'aria-label': 'Sections' },
    h(
      'ul',
      null,
      sections.map((s) => h('li', null, h('a', { href: `#${s.route}`, 'data-section': s.route }, s.label))),
    ),
  );
  const who = session.identity();
  const skip = h(
    'a',
    {
      class: 'skip-link',
      href: '#main',
      onclick: (e: Event) => {
        e.preventDefault();
        main.focus();
      },
    },
    'Skip to content',
  );
  const header = h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), ' aoinb'),
    nav,
    h(
      'div',
      { class: 'who' },
      farm.grafana_url
        ? h(
            'a',
            { href: farm.grafana_url, rel: 'noopener noreferrer', target: '_blank', class: 'grafana' },
            'Grafana ↗',
          )
        : null,
      h('span', { class: 'muted' }, who ? `${who.name} (${who.role})` : ''),
      h('button', { type: 'button', class: 'quiet', onclick: onSignOut }, 'Sign out'),
    ),
  );
  root.replaceChildren(
    skip,
    header,
    h('section', { class: 'queue-strip', 'aria-label': 'Queue depth per arch' }, queues),
    main,
  );
  return {
    main,
    queues,
    setSection(route: string) {
      for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-section]')) {
        if (route.startsWith(a.dataset.section!.replace(/s$/, ''))) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
  };
}

let lastQueues = '';
export async function refreshQueues(region: HTMLElement, signal: AbortSignal): Promise<void> {
  const view = await api<QueueCounts>('GET', '/queue', { signal });
  const text = JSON.stringify(view);
  if (text === lastQueues && region.childElementCount > 0) return;
  lastQueues = text;
  replaceKeepingFocus(
    region,
    h('span', { class: 'label' }, 'Queues:'),
    view.queues.map((q) =>
      h(
        'span',
        { class: `queue${q.waiting > 0 ? ' busy' : ''}`, 'data-arch': q.arch },
        h('strong', null, q.arch),
        ` ${q.waiting} waiting · ${q.active} building`,
      ),
    ),
  );
}
