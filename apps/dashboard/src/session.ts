import type { Identity } from './views.ts';

/**
 * The signed-in token lives in sessionStorage only: it ends with the tab, is
 * never put in a URL (no ?token=), and never written to the console.
 */
const key = 'aoinb.token';

export type { Identity };

export const session = {
  token(): string | null {
    return sessionStorage.getItem(key);
  },
  signIn(token: string): void {
    sessionStorage.setItem(key, token);
  },
  signOut(): void {
    sessionStorage.removeItem(key);
    identity = undefined;
  },
  identity(): Identity | undefined {
    return identity;
  },
  setIdentity(who: Identity): void {
    identity = who;
  },
  /** Whether the signed-in token may submit, cancel and retry (the API checks again). */
  mayAct(): boolean {
    return identity?.role === 'maintainer' || identity?.role === 'admin';
  },
};

let identity: Identity | undefined;
