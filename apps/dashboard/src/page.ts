import type { ApiClient } from './api.ts';
import type { FarmInfo } from './layout.ts';
import type { Session } from './session.ts';

/**
 * What a page gets: where to draw, when to stop (route left; the session's end stops it too), the sign-in and its
 * API client, the farm, and the route's id and query.
 */
export interface PageContext {
  main: HTMLElement;
  signal: AbortSignal;
  session: Session;
  api: ApiClient;
  farm: FarmInfo;
  id?: string;
  query: URLSearchParams;
  /** Changes the query of the current route without adding a history entry. */
  setQuery(query: URLSearchParams): void;
}

export type Page = (ctx: PageContext) => void;
