// The signed-in session: its bearer token in localStorage, and a tiny store
// React components subscribe to.
import { useSyncExternalStore } from 'react';

const key = 'keel.token';
const listeners = new Set<() => void>();
let token: string | null = localStorage.getItem(key);

export function readToken(): string | null {
  return token;
}

export function setToken(next: string | null): void {
  token = next;
  if (next) localStorage.setItem(key, next);
  else localStorage.removeItem(key);
  for (const listener of listeners) listener();
}

/**
 * Called by the client when the server refused a token: forget it, unless
 * the user has signed in again since (a slow call answering late).
 */
export function tokenRejected(rejected: string | null): void {
  if (rejected !== null && token === rejected) setToken(null);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current token; components re-render when it changes. */
export function useToken(): string | null {
  return useSyncExternalStore(subscribe, readToken);
}

// Another tab signed in or out.
window.addEventListener('storage', (event) => {
  if (event.key === key) {
    token = event.newValue;
    for (const listener of listeners) listener();
  }
});
