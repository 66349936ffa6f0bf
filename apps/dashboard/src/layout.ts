import type { ApiClient } from './api.ts';
import { h, replaceKeepingFocus } from './dom.ts';
import type { FarmInfo, Identity, QueueCounts } from './views.ts';

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
  api: ApiClient,
  onSignOut: () => void,
): { main: HTMLElement; queues: QueueStrip; setSection(route: string): void } {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const queues = new QueueStrip(api, h('div', { class: 'queues', 'aria-live': 'off' }));
  const nav = sectionNav();
  root.replaceChildren(
    skipLink(main),
    topHeader(farm, api.session.identity(), nav, onSignOut),
    h('section', { class: 'queue-strip', 'aria-label': 'Queue depth per arch' }, queues.region),
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

/** The links to the sections; `setSection` marks the current one. */
function sectionNav(): HTMLElement {
  return h(
    'nav',
    { 'aria-label': 'Sections' },
    h(
      'ul',
      null,
      sections.map((s) => h('li', null, h('a', { href: `#${s.route}`, 'data-section': s.route }, s.label))),
    ),
  );
}

/** The first stop of the keyboard: past the header, straight to the page's content. */
function skipLink(main: HTMLElement): HTMLElement {
  return h(
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
}

/** The brand, the sections, Grafana (when the farm names it) and who is signed in, with sign-out. */
function topHeader(farm: FarmInfo, who: Identity | undefined, nav: HTMLElement, onSignOut: () => void): HTMLElement {
  return h(
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
}

/**
 * The queue depth per arch under the navigation. Each frame has its own (with the sign-in's client), remembering
 * the view it drew last (no module-level state): a refresh redraws only when the counts changed, so focus and
 * screen readers are left alone between polls.
 */
export class QueueStrip {
  private drawn = '';

  constructor(
    private readonly api: ApiClient,
    readonly region: HTMLElement,
  ) {}

  async refresh(signal: AbortSignal): Promise<void> {
    const view = await this.api.request<QueueCounts>('GET', '/queue', { signal });
    const text = JSON.stringify(view);
    if (text === this.drawn && this.region.childElementCount > 0) return;
    this.drawn = text;
    replaceKeepingFocus(
      this.region,
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
}
