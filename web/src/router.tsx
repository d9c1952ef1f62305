import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** The console's paths live under /console; the page served at / is the systems list. */
const BASE = '/console';

/** The path inside the console ("/systems/abc"), from the address bar. */
export function currentPath(): string {
  const p = location.pathname;
  const inside = p === BASE || p.startsWith(`${BASE}/`) ? p.slice(BASE.length) : p;
  return inside === '' || inside === '/' ? '/systems' : inside.replace(/\/+$/, '');
}

export function href(path: string): string {
  return `${BASE}${path}`;
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', href(path));
  else history.pushState(null, '', href(path));
  window.dispatchEvent(new Event('muster:navigate'));
}

/** The current path and query, re-rendering on navigation. */
export function useRoute(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((n) => n + 1);
    window.addEventListener('popstate', bump);
    window.addEventListener('muster:navigate', bump);
    return () => {
      window.removeEventListener('popstate', bump);
      window.removeEventListener('muster:navigate', bump);
    };
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}

/** Matches "/jobs/:id" against a path; the named parts, or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    if (p.startsWith(':')) out[p.slice(1)] = decodeURIComponent(b[i]!);
    else if (p !== b[i]) return undefined;
  }
  return out;
}

/** An ordinary link that navigates inside the page (modified clicks open as usual). */
export function Link({ to, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a {...rest} href={href(to)} onClick={onClick} />;
}
