import { api, whenUnauthorized } from './api.ts';
import { h } from './dom.ts';
import { renderFrame, type FarmInfo } from './layout.ts';
import type { Page } from './page.ts';
import { builderListPage } from './pages/builder-list.ts';
import { groupListPage } from './pages/group-list.ts';
import { groupPage } from './pages/group-page.ts';
import { renderSignIn } from './pages/sign-in.ts';
import { taskListPage } from './pages/task-list.ts';
import { taskPage } from './pages/task-page.ts';
import { poll } from './api.ts';
import { session, type Identity } from './session.ts';

/** Hash routes: the server serves one page; the hash never carries the token. */
const routes: Array<{ pattern: RegExp; page: Page; title: string }> = [
  { pattern: /^\/tasks$/, page: taskListPage, title: 'Tasks' },
  { pattern: /^\/task\/(\d+)$/, page: taskPage, title: 'Task' },
  { pattern: /^\/groups$/, page: groupListPage, title: 'Groups' },
  { pattern: /^\/group\/(\d+)$/, page: groupPage, title: 'Group' },
  { pattern: /^\/builders$/, page: builderListPage, title: 'Builders' },
];

function parseHash(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/tasks';
  const [path, search] = raw.split('?', 2) as [string, string | undefined];
  return { path, query: new URLSearchParams(search ?? '') };
}

/** The app in its root element: what it holds lives here, not in the module (the house style's no singletons). */
class Dashboard {
  private current: AbortController | undefined;
  /** The queue strip's polling: one per signed-in frame, stopped on sign-out. */
  private strip: AbortController | undefined;
  private frame: ReturnType<typeof renderFrame> | undefined;
  private farm: FarmInfo | undefined;
  private navigated = false;

  constructor(private readonly root: HTMLElement) {}

  private signOut(): void {
    this.current?.abort();
    this.strip?.abort();
    session.signOut();
    this.frame = undefined;
    renderSignIn(this.root, () => this.start());
  }

  show(): void {
    const { frame, farm } = this;
    if (!frame || !farm) return;
    this.current?.abort();
    this.current = new AbortController();
    const { path, query } = parseHash();
    const route = routes.find((r) => r.pattern.test(path));
    frame.setSection(path);
    const main = frame.main;
    main.replaceChildren();
    if (!route) {
      main.append(
        h('h1', null, 'Not found'),
        h('p', null, 'There is no page at this address. ', h('a', { href: '#/tasks' }, 'Go to the tasks.')),
      );
      return;
    }
    const id = route.pattern.exec(path)?.[1];
    document.title = `${route.title}${id ? ` ${id}` : ''} · aoinb`;
    route.page({
      main,
      signal: this.current.signal,
      farm,
      id,
      query,
      setQuery(next) {
        const text = next.toString();
        history.replaceState(null, '', `#${path}${text ? `?${text}` : ''}`);
      },
    });
    // After a navigation, focus goes to the new page's heading so screen readers and keyboards start there;
    // on the first load it stays at the document's start, where Tab reaches the skip link.
    main.querySelector('h1')?.setAttribute('tabindex', '-1');
    if (this.navigated) main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    this.navigated = true;
  }

  /** Signs in with the stored token (checked against /whoami), then draws the app. */
  async start(): Promise<void> {
    const again = (): Promise<void> => this.start();
    if (!session.token()) return renderSignIn(this.root, again);
    try {
      session.setIdentity(await api<Identity>('GET', '/whoami'));
      this.farm = await api<FarmInfo>('GET', '/farm');
    } catch (error) {
      session.signOut();
      return renderSignIn(this.root, again, (error as Error).message);
    }
    const frame = renderFrame(this.root, this.farm, () => this.signOut());
    this.frame = frame;
    this.strip?.abort();
    const strip = new AbortController();
    this.strip = strip;
    poll(strip.signal, 3000, () => frame.queues.refresh(strip.signal));
    whenUnauthorized(() => this.signOut());
    this.show();
  }
}

const dashboard = new Dashboard(document.getElementById('app')!);
window.addEventListener('hashchange', () => dashboard.show());
void dashboard.start();
