import { ApiClient } from './api.ts';
import { h } from './dom.ts';
import { renderFrame, type FarmInfo } from './layout.ts';
import type { Page } from './page.ts';
import { builderListPage } from './pages/builder-list.ts';
import { groupListPage } from './pages/group-list.ts';
import { groupPage } from './pages/group-page.ts';
import { renderSignIn } from './pages/sign-in.ts';
import { taskListPage } from './pages/task-list.ts';
import { taskPage } from './pages/task-page.ts';
import { Session, TokenStore, type Identity } from './session.ts';

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

/** A sign-in the API accepted: its session and client, the farm, and the frame drawn for it. */
interface SignedIn {
  session: Session;
  api: ApiClient;
  farm: FarmInfo;
  frame: ReturnType<typeof renderFrame>;
}

/**
 * The app in its root element: what it holds lives here, not in the module (the house style's no singletons).
 * Each sign-in is a new Session with its own ApiClient; sign-out ends it, which stops its page, the queue strip's
 * polling and any log stream, and forgets its token and role.
 */
class Dashboard {
  private current: AbortController | undefined;
  private signedIn: SignedIn | undefined;
  private navigated = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly tokens: TokenStore,
  ) {}

  /** At load: signs in with the token this tab kept, if any. */
  async start(): Promise<void> {
    const token = this.tokens.get();
    if (!token) return this.showSignIn();
    let accepted: Omit<SignedIn, 'frame'>;
    try {
      accepted = await this.check(token);
    } catch (error) {
      this.tokens.clear();
      return this.showSignIn((error as Error).message);
    }
    this.draw(accepted);
  }

  private showSignIn(problem?: string): void {
    renderSignIn(this.root, (token) => this.signIn(token), problem);
  }

  /** The sign-in form's token: refused (the form says why) or kept and drawn. */
  private async signIn(token: string): Promise<void> {
    const accepted = await this.check(token);
    if (!location.hash || location.hash === '#' || location.hash === '#/signin') location.hash = '#/tasks';
    this.draw(accepted);
  }

  /** A new session for the token, checked against /whoami, with the farm's facts; kept in the tab once accepted. */
  private async check(token: string): Promise<Omit<SignedIn, 'frame'>> {
    const session = new Session(token);
    const api = new ApiClient(session, () => this.signOut(session));
    try {
      session.setIdentity(await api.request<Identity>('GET', '/whoami'));
      const farm = await api.request<FarmInfo>('GET', '/farm');
      this.tokens.set(token);
      return { session, api, farm };
    } catch (error) {
      session.end();
      throw error;
    }
  }

  /** The frame of the signed-in app; its queue strip polls as long as the session lasts. */
  private draw({ session, api, farm }: Omit<SignedIn, 'frame'>): void {
    const frame = renderFrame(this.root, farm, api, () => this.signOut(session));
    this.signedIn = { session, api, farm, frame };
    api.poll(session.signal, 3000, () => frame.queues.refresh(session.signal));
    this.show();
  }

  /** Ends `session` if it is the one signed in (a late 401 of an ended one changes nothing). */
  private signOut(session: Session): void {
    if (this.signedIn?.session !== session) return;
    this.current?.abort();
    session.end();
    this.tokens.clear();
    this.signedIn = undefined;
    this.showSignIn();
  }

  show(): void {
    const signedIn = this.signedIn;
    if (!signedIn) return;
    const { frame, farm, session, api } = signedIn;
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
      session,
      api,
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
}

const dashboard = new Dashboard(document.getElementById('app')!, new TokenStore(sessionStorage));
window.addEventListener('hashchange', () => dashboard.show());
void dashboard.start();
