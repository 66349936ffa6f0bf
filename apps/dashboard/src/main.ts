import { api, whenUnauthorized } from './api.ts';
import { h } from './dom.ts';
import { refreshQueues, renderFrame, type FarmInfo } from './layout.ts';
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

const root = document.getElementById('app')!;
let current: AbortController | undefined;
let frame: ReturnType<typeof renderFrame> | undefined;
let farm: FarmInfo | undefined;
let navigated = false;

function parseHash(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/tasks';
  const [path, search] = raw.split('?', 2) as [string, string | undefined];
  return { path, query: new URLSearchParams(search ?? '') };
}

function signOut(): void {
  current?.abort();
  session.signOut();
  frame = undefined;
  renderSignIn(root, start);
}

function show(): void {
  if (!frame || !farm) return;
  current?.abort();
  current = new AbortController();
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
    signal: current.signal,
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
  if (navigated) main.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
  navigated = true;
}

/** Signs in with the stored token (checked against /whoami), then draws the app. */
async function start(): Promise<void> {
  if (!session.token()) return renderSignIn(root, start);
  try {
    session.setIdentity(await api<Identity>('GET', '/whoami'));
    farm = await api<FarmInfo>('GET', '/farm');
  } catch (error) {
    session.signOut();
    return renderSignIn(root, start, (error as Error).message);
  }
  frame = renderFrame(root, farm, signOut);
  const queues = frame.queues;
  const strip = new AbortController();
  poll(strip.signal, 3000, () => refreshQueues(queues, strip.signal));
  whenUnauthorized(() => {
    strip.abort();
    signOut();
  });
  show();
}

window.addEventListener('hashchange', show);
void start();
