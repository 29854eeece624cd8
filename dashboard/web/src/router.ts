// A router the size of this app: eight pages, one with a parameter. The path lives in a ref that the
// History API and popstate keep in step; App.vue picks the page from it.
import { ref } from 'vue';

export type Route =
  | { name: 'login' }
  | { name: 'console' }
  | { name: 'homes' }
  | { name: 'resident'; id: string }
  | { name: 'devices' }
  | { name: 'residents' }
  | { name: 'family' }
  | { name: 'admin' }
  | { name: 'account' }
  | { name: 'operations' }
  | { name: 'home' }
  | { name: 'not_found' };

export const currentPath = ref(window.location.pathname);

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  const [first, second] = parts;
  if (parts.length === 0) return { name: 'home' };
  if (parts.length === 1) {
    switch (first) {
      case 'login':
      case 'console':
      case 'homes':
      case 'devices':
      case 'residents':
      case 'family':
      case 'admin':
      case 'account':
      case 'operations':
        return { name: first };
    }
  }
  if (parts.length === 2 && first === 'residents' && second)
    return { name: 'resident', id: decodeURIComponent(second) };
  return { name: 'not_found' };
}

export function navigate(path: string, replace = false): void {
  if (path === currentPath.value) return;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  currentPath.value = path;
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  currentPath.value = window.location.pathname;
});

export function residentPath(id: string): string {
  return `/residents/${encodeURIComponent(id)}`;
}
