// Client-side routes with parameters: `/dashboard/whatsapp/chats/<conversationId>` is a link
// anyone can open, bookmark or share, and the back button walks the conversations opened.
export const BASE = '/dashboard/whatsapp';

/** Route patterns, most specific first: `:name` captures one path segment. */
const ROUTES = [
  ['chats/:conversationId', 'chat'],
  ['chats', 'chat'],
  ['chat', 'chat'], // the first release's address of the chat page
  ['sessions', 'sessions'],
  ['contacts', 'contacts'],
  ['stats', 'stats'],
  ['broadcasts/:id', 'broadcasts'],
  ['broadcasts', 'broadcasts'],
  ['automation/:tab', 'automation'],
  ['automation', 'automation'],
  ['settings', 'settings'],
  ['login', 'login'],
  ['register', 'register'],
];

/** The page and parameters of a path; unknown paths are the chat page. */
export function match(pathname) {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : '';
  const segments = rest.split('/').filter(Boolean);
  for (const [pattern, page] of ROUTES) {
    const parts = pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params = {};
    const ok = parts.every((part, i) => {
      if (part.startsWith(':')) {
        try {
          params[part.slice(1)] = decodeURIComponent(segments[i]);
        } catch {
          return false;
        }
        return true;
      }
      return part === segments[i];
    });
    if (ok) return { page, params };
  }
  return { page: 'chat', params: {} };
}

/** The path of a page, with its parameters. */
export function pathOf(page, params = {}) {
  if (page === 'chat') {
    return params.conversationId ? `${BASE}/chats/${encodeURIComponent(params.conversationId)}` : `${BASE}/chats`;
  }
  if (page === 'automation' && params.tab) return `${BASE}/automation/${encodeURIComponent(params.tab)}`;
  if (page === 'broadcasts' && params.id) return `${BASE}/broadcasts/${encodeURIComponent(params.id)}`;
  return `${BASE}/${page}`;
}
