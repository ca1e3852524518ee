// The wasl API as the dashboard uses it: the envelope, the token, the language, live events.
import { getLang, t } from './i18n.js';

const TOKEN_KEY = 'wasl.token';
export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;

export const auth = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set(token) {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
  },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let unauthorized = () => {};
/** Called when a signed-in request answers 401 (the token expired or the user was removed). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

function headers(extra = {}) {
  const h = { Accept: 'application/json', 'Accept-Language': getLang(), ...extra };
  if (auth.token) h.Authorization = `Bearer ${auth.token}`;
  return h;
}

// A token the page is replacing (a password change answers with a new one): a 401, or a
// socket closed because the old token ended, is judged once the new token is in place.
let tokenChange = null;

/** Runs `work`, which stores a new token, and holds sign-outs until it has settled. */
export function replacingToken(work) {
  const settled = work.catch(() => {});
  tokenChange = settled;
  settled.then(() => {
    if (tokenChange === settled) tokenChange = null;
  });
  return work;
}

/** Whether `usedToken` is still the page's token, once any replacement has settled. */
async function stillCurrent(usedToken) {
  if (tokenChange) await tokenChange;
  return !!auth.token && auth.token === usedToken;
}

async function failure(res, path, usedToken) {
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    // Not JSON (a proxy's page, say): fall back to a message by status below.
  }
  const fallback = res.status === 413 ? t('fileTooLarge') : t('unexpectedError');
  const err = new ApiError(res.status, payload?.error?.code || `HTTP_${res.status}`,
    payload?.message || fallback, payload?.error?.details);
  if (res.status === 401 && !path.startsWith('/auth/')) {
    stillCurrent(usedToken).then((current) => { if (current) unauthorized(err); });
  }
  return err;
}

/**
 * Calls `/api/v1{path}` and returns the envelope's `data`, or throws an ApiError carrying the
 * server's localized message. Options: `query` (object), `json` (body), `form` (FormData).
 */
export async function api(method, path, { query, json, form, idempotencyKey } = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const extra = json !== undefined ? { 'Content-Type': 'application/json' } : {};
  // A send retried with its key is the same send: never twice, even if the first got through.
  if (idempotencyKey) extra['Idempotency-Key'] = idempotencyKey;
  const usedToken = auth.token;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: headers(extra),
      body: json !== undefined ? JSON.stringify(json) : form,
    });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', t('networkError'));
  }
  if (!res.ok) throw await failure(res, path, usedToken);
  const payload = await res.json().catch(() => null);
  if (!payload || payload.success === false) {
    throw new ApiError(res.status, payload?.error?.code || 'BAD_RESPONSE', payload?.message || t('unexpectedError'));
  }
  return payload.data;
}

// ---- media: fetched with the Authorization header, shown through blob: URLs ----

const media = new Map();

export function mediaUrl(messageId) {
  if (!media.has(messageId)) {
    const p = (async () => {
      const usedToken = auth.token;
      const res = await fetch(`/api/v1/whatsapp/messages/${encodeURIComponent(messageId)}/media`, { headers: headers() });
      if (!res.ok) throw await failure(res, '/whatsapp/messages', usedToken);
      return URL.createObjectURL(await passiveBlob(res));
    })();
    media.set(messageId, p);
    p.catch(() => media.delete(messageId));
  }
  return media.get(messageId);
}

/** A file of the media library, as a blob: URL (kept for the page's life, like messages'). */
export function libraryUrl(mediaId) {
  const key = `library:${mediaId}`;
  if (!media.has(key)) {
    const p = (async () => {
      const usedToken = auth.token;
      const res = await fetch(`/api/v1/whatsapp/media/${encodeURIComponent(mediaId)}/content`, { headers: headers() });
      if (!res.ok) throw await failure(res, '/whatsapp/media', usedToken);
      return URL.createObjectURL(await passiveBlob(res));
    })();
    media.set(key, p);
    p.catch(() => media.delete(key));
  }
  return media.get(key);
}

/** A file of the media library as a File, to attach it to a message. */
export async function libraryFile(item) {
  const usedToken = auth.token;
  const res = await fetch(`/api/v1/whatsapp/media/${encodeURIComponent(item.id)}/content`, { headers: headers() });
  if (!res.ok) throw await failure(res, '/whatsapp/media', usedToken);
  const bytes = await res.arrayBuffer();
  return new File([bytes], item.filename || item.type, { type: item.mimeType });
}

/** Only media a browser merely displays keeps its type in a blob: URL; anything else (an SVG,
 *  HTML) becomes opaque bytes, so opening the URL can never run a script in wasl's origin. */
const PASSIVE = /^(image\/(jpeg|png|webp|gif)|video\/(mp4|3gpp|quicktime|webm|x-matroska)|audio\/(ogg|mpeg|m4a|mp4|aac|amr|x-wav|opus)|application\/pdf|text\/plain)$/;

async function passiveBlob(res) {
  const type = (res.headers.get('content-type') || '').split(';')[0].trim().toLowerCase();
  const bytes = await res.arrayBuffer();
  return new Blob([bytes], { type: PASSIVE.test(type) ? type : 'application/octet-stream' });
}

/** Adopts a file the user just sent as the media of the message the server created. */
export function rememberMedia(messageId, file) {
  if (media.has(messageId)) return;
  const safe = new Blob([file], { type: PASSIVE.test(file.type) ? file.type : 'application/octet-stream' });
  media.set(messageId, Promise.resolve(URL.createObjectURL(safe)));
}

// ---- live events: the WebSocket when the server offers it, else the pages poll ----
//
// The socket resumes where it left off: each reconnection asks for the events after the last
// one received (`since`), which the server replays from its event log, so a dropped connection
// loses nothing. While the browser says it is offline no connection is attempted; when it is
// back online the socket reconnects at once.

const listeners = new Set();
// The latest events received (type, event id, message id), for the browser tests to tell
// live updates from polling and replays from live ones.
const recent = [];
window.__waslEvents = recent;
const liveState = { connected: false, socket: null, retry: 2000, timer: null, wanted: false, lastEventId: null, offline: false, everConnected: false };
const stateListeners = new Set();
const reconnectListeners = new Set();

function setConnected(v) {
  if (liveState.connected === v) return;
  liveState.connected = v;
  for (const fn of stateListeners) fn(v);
}

function connect() {
  if (!liveState.wanted || !auth.token) return;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (liveState.offline || liveState.socket) return;
  const since = liveState.lastEventId ? `&since=${encodeURIComponent(liveState.lastEventId)}` : '';
  let socket;
  try {
    socket = new WebSocket(`${scheme}//${location.host}/api/v1/events?token=${encodeURIComponent(auth.token)}${since}`);
  } catch {
    schedule();
    return;
  }
  liveState.socket = socket;
  const openedWith = auth.token;
  socket.onopen = () => {
    liveState.retry = 2000;
    setConnected(true);
    // Back after a break: what the replay cannot cover (a page's listing) is read again.
    if (liveState.everConnected) for (const fn of reconnectListeners) fn();
    liveState.everConnected = true;
  };
  socket.onmessage = (e) => {
    let event;
    try {
      event = JSON.parse(e.data);
    } catch {
      return;
    }
    if (event.id) liveState.lastEventId = event.id;
    recent.push({ type: event.type, id: event.id, messageId: event.data?.messageId || null });
    if (recent.length > 200) recent.shift();
    for (const fn of listeners) {
      try {
        fn(event);
      } catch (err) {
        window.__waslErrors?.push(String(err?.stack || err));
      }
    }
  };
  socket.onclose = (e) => {
    if (liveState.socket === socket) liveState.socket = null;
    setConnected(false);
    // 4401: the server ended this sign-in (signed out elsewhere, password changed, account
    // removed or disabled): sign out here too instead of reconnecting with it.
    if (e.code === 4401) {
      // A token this page has replaced meanwhile (a new password) ended: go on with the new one.
      stillCurrent(openedWith).then((current) => {
        if (current) unauthorized(new ApiError(401, 'INVALID_TOKEN', t('sessionEnded')));
        else {
          liveState.retry = 2000;
          connect();
        }
      });
      return;
    }
    schedule();
  };
}

function schedule() {
  clearTimeout(liveState.timer);
  if (!liveState.wanted || liveState.offline) return;
  liveState.timer = setTimeout(connect, liveState.retry);
  liveState.retry = Math.min(liveState.retry * 2, 60000);
}

export const live = {
  start() {
    if (liveState.wanted) return;
    liveState.wanted = true;
    connect();
  },
  stop() {
    liveState.wanted = false;
    clearTimeout(liveState.timer);
    liveState.socket?.close();
    liveState.socket = null;
    liveState.lastEventId = null;
    liveState.everConnected = false;
    setConnected(false);
  },
  get connected() {
    return liveState.connected;
  },
  /** Subscribes to events `{type, data, at}`; returns the unsubscribe function. */
  on(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  onState(fn) {
    stateListeners.add(fn);
    return () => stateListeners.delete(fn);
  },
  /** Called each time the socket is back after a break (its missed events replayed). */
  onReconnect(fn) {
    reconnectListeners.add(fn);
    return () => reconnectListeners.delete(fn);
  },
};

window.addEventListener('offline', () => {
  liveState.offline = true;
  clearTimeout(liveState.timer);
  liveState.socket?.close();
});
window.addEventListener('online', () => {
  liveState.offline = false;
  liveState.retry = 2000;
  connect();
});

/** The refresh interval pages use: slow when live events arrive, every 2 s when they do not. */
export function pollInterval() {
  return live.connected ? 15000 : 2000;
}

/** How often a listing that live events keep current is read again to settle what an event
 *  cannot say: seldom while the live connection is up, as often as polling when it is down. */
export function settleInterval() {
  return live.connected ? 60000 : 2000;
}
