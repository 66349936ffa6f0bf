import type { FarmInfo } from './layout.ts';

/** What a page gets: where to draw, when to stop (route left), the farm, and the route's id and query. */
export interface PageContext {
  main: HTMLElement;
  signal: AbortSignal;
  farm: FarmInfo;
  id?: string;
  query: URLSearchParams;
  /** Changes the query of the current route without adding a history entry. */
  setQuery(query: URLSearchParams): void;
}

export type Page = (ctx: PageContext) => void;
