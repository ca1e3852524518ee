// The dashboard's shell: language, sign-in state, navigation and the page router.
import { applyLang, getLang, setLang, t } from './i18n.js';
import { api, auth, live, onUnauthorized } from './api.js';
import { sessions as sharedSessions } from './state.js';
import { clearErrorToasts, h, icon, toastError } from './ui.js';
import { applyTheme } from './theme.js';
import * as authPages from './pages/auth.js';
import * as sessions from './pages/sessions.js';
import * as chat from './pages/chat.js';
import * as contacts from './pages/contacts.js';
import * as stats from './pages/stats.js';
import * as settings from './pages/settings.js';
import * as automation from './pages/automation.js';
import * as broadcasts from './pages/broadcasts.js';
import { BASE, match, pathOf } from './router.js';
import { retitle, startAttention, stopAttention } from './attention.js';

export { BASE };

const PAGES = {
  chat: { page: chat, label: 'navChat', icon: 'chat' },
  sessions: { page: sessions, label: 'navSessions', icon: 'phone' },
  contacts: { page: contacts, label: 'navContacts', icon: 'users' },
  automation: { page: automation, label: 'navAutomation', icon: 'zap' },
  broadcasts: { page: broadcasts, label: 'navBroadcasts', icon: 'send' },
  stats: { page: stats, label: 'navStats', icon: 'chart' },
  settings: { page: settings, label: 'navSettings', icon: 'settings' },
};
const PUBLIC = { login: authPages.login, register: authPages.register };

// `mounted`: what the current page answered when it was mounted — how to unmount it, and
// optionally how to follow a new address of its own (a conversation opened) without remounting.
const state = { me: null, mounted: null, route: null };

function routeOf(pathname) {
  return match(pathname).page;
}

/** Goes to a page (with parameters such as `conversationId`). Within the page that is showing,
 *  only the address changes and the page follows it; another page is mounted afresh. */
export function navigate(name, { replace = false, params = {} } = {}) {
  const url = pathOf(name, params);
  if (location.pathname !== url) history[replace ? 'replaceState' : 'pushState']({}, '', url);
  if (state.route === name && state.mounted?.route && PAGES[name]) {
    state.mounted.route(match(location.pathname).params);
    return;
  }
  render();
}

function unmount() {
  const m = state.mounted;
  state.mounted = null;
  if (typeof m === 'function') m();
  else m?.unmount?.();
}

export function currentUser() {
  return state.me;
}

function toggleLang() {
  setLang(getLang() === 'ar' ? 'en' : 'ar');
  render();
}

export function langButton(cls = 'lang-btn') {
  return h('button', { type: 'button', class: cls, 'data-action': 'toggle-lang', title: t('switchLangTitle'), onclick: toggleLang },
    icon('globe', { size: 18 }), h('span', { text: t('switchLang') }));
}

/** Signs out: the server ends this token (on every device's socket too), then the page
 *  forgets it. When the server cannot be reached the token is forgotten all the same. */
async function logout() {
  if (auth.token) await api('POST', '/auth/logout').catch(() => {});
  signedOut();
}

function signedOut() {
  auth.clear();
  live.stop();
  stopAttention();
  sharedSessions.reset();
  state.me = null;
  navigate('login');
}

async function loadMe() {
  if (state.me || !auth.token) return state.me;
  try {
    state.me = await api('GET', '/auth/me');
  } catch (err) {
    if (err.status === 401) auth.clear();
    else toastError(err);
  }
  return state.me;
}

/** After sign-in or registration. */
export function signedIn(data) {
  auth.set(data.token);
  state.me = { user: data.user, organization: data.organization };
  navigate('chat');
}

function shell(route, main) {
  const me = state.me;
  const nav = Object.entries(PAGES).map(([name, p]) =>
    h('a', {
      href: pathOf(name), class: `nav-item${name === route ? ' active' : ''}`, 'data-nav': name,
      'aria-current': name === route ? 'page' : null,
      onclick: (e) => {
        if (e.metaKey || e.ctrlKey) return;
        e.preventDefault();
        navigate(name);
      },
    }, icon(p.icon, { size: 22 }), h('span', { text: t(p.label) })));
  const liveBadge = h('span', { class: `live-badge${live.connected ? ' on' : ''}`, 'data-live': live.connected ? 'on' : 'off' },
    h('i'), h('span', { text: live.connected ? t('liveOn') : t('liveOff') }));
  return h('div', { class: 'shell', 'data-route': route },
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' },
        h('img', { src: `${BASE}/assets/logo.svg`, alt: '', width: 36, height: 36 }),
        h('div', {}, h('strong', { text: t('appName') }), h('small', { text: me?.organization?.name || t('tagline') }))),
      h('nav', { class: 'nav', 'aria-label': t('appName') }, nav),
      h('div', { class: 'sidebar-foot' },
        liveBadge,
        me ? h('div', { class: 'me' }, h('span', { class: 'me-name', text: me.user?.name || '' }), h('small', { text: me.user?.email || '' })) : null,
        me?.user ? h('button', { type: 'button', class: 'logout-btn', 'data-action': 'change-password', onclick: authPages.changePasswordDialog }, icon('key', { size: 18 }), h('span', { text: t('changePassword') })) : null,
        langButton(),
        h('button', { type: 'button', class: 'logout-btn', 'data-action': 'logout', onclick: logout }, icon('logout', { size: 18 }), h('span', { text: t('logout') })))),
    h('header', { class: 'topbar' },
      h('img', { src: `${BASE}/assets/logo.svg`, alt: '', width: 28, height: 28 }),
      h('strong', { text: t(PAGES[route].label) }),
      h('span', { class: 'spacer' }),
      langButton('lang-btn compact'),
      me?.user ? h('button', { type: 'button', class: 'icon-btn', 'data-action': 'change-password-compact', title: t('changePassword'), 'aria-label': t('changePassword'), onclick: authPages.changePasswordDialog }, icon('key', { size: 18 })) : null,
      h('button', { type: 'button', class: 'icon-btn', 'data-action': 'logout-compact', title: t('logout'), 'aria-label': t('logout'), onclick: logout }, icon('logout', { size: 18 }))),
    h('main', { class: 'main' }, main));
}

let renderSeq = 0;

async function render() {
  const seq = ++renderSeq;
  applyLang();
  applyTheme();
  unmount();
  const app = document.getElementById('app');
  let route = routeOf(location.pathname);
  if (PUBLIC[route]) {
    if (auth.token) {
      navigate('chat', { replace: true });
      return;
    }
    app.replaceChildren();
    state.mounted = PUBLIC[route](app);
    state.route = route;
    return;
  }
  if (!auth.token) {
    navigate('login', { replace: true });
    return;
  }
  // Known already: no wait, so a page mounts at once with what the shared state knows.
  const me = state.me || (await loadMe());
  // A newer navigation started while this one waited: it renders instead.
  if (seq !== renderSeq) return;
  if (!auth.token) {
    navigate('login', { replace: true });
    return;
  }
  live.start();
  startAttention();
  retitle();
  route = routeOf(location.pathname);
  // An error shown on the page being left (a wrong password before signing in) is stale now.
  if (route !== state.route) clearErrorToasts();
  const main = h('div', { class: 'page' });
  app.replaceChildren(shell(route, main));
  document.body.classList.remove('in-thread');
  state.route = route;
  state.mounted = PAGES[route].page.mount(main, { me, navigate, params: match(location.pathname).params });
}

onUnauthorized(() => {
  if (!auth.token) return;
  // The token no longer works: nothing to tell the server.
  signedOut();
});
live.onState(() => {
  const badge = document.querySelector('.live-badge');
  if (!badge) return;
  badge.classList.toggle('on', live.connected);
  badge.dataset.live = live.connected ? 'on' : 'off';
  badge.lastChild.textContent = live.connected ? t('liveOn') : t('liveOff');
});
// Uncaught errors are kept so the browser tests can fail on them.
window.__waslErrors = [];
window.addEventListener('error', (e) => window.__waslErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__waslErrors.push(String(e.reason?.stack || e.reason)));
document.addEventListener('securitypolicyviolation', (e) => window.__waslErrors.push(`CSP ${e.violatedDirective} ${e.blockedURI}`));
window.addEventListener('popstate', () => {
  const { page, params } = match(location.pathname);
  if (page === state.route && state.mounted?.route && PAGES[page]) state.mounted.route(params);
  else render();
});
render();
