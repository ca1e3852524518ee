// What draws the eye when customers write: the number of conversations with unread messages
// in the tab's title ("(3) وصل"), like WhatsApp Web, read from the API (not from the rows a
// page happens to have loaded) whenever the live events say it may have changed.
import { api, live } from './api.js';
import { baseTitle, t } from './i18n.js';
import { debounce } from './ui.js';

let unread = 0;
let running = false;

function showTitle() {
  document.title = unread > 0 ? `(${unread > 99 ? '99+' : unread}) ${baseTitle()}` : baseTitle();
}

const recount = debounce(async () => {
  if (!running) return;
  try {
    const data = await api('GET', '/whatsapp/conversations', { query: { unread: 'true', limit: 1 } });
    unread = data.pagination.total;
  } catch {
    return; // the count stays as it was; the next event tries again
  }
  showTitle();
}, 400);

/** Starts following the unread count (after sign-in); idempotent. */
let listening = false;
export function startAttention() {
  if (running) return;
  running = true;
  if (!listening) {
    listening = true;
    live.on((ev) => {
      if (ev.type?.startsWith('conversation.') || ev.type === 'message.received') recount();
      if (ev.type === 'message.received' && ev.data?.direction === 'incoming') announce(ev.data);
    });
    live.onReconnect(() => recount());
  }
  recount();
}

/** Signing out: no count for the next account to see. */
export function stopAttention() {
  running = false;
  unread = 0;
  showTitle();
}

/** The language changed: the title follows it. */
export function retitle() {
  showTitle();
}

// ---- sound and desktop notifications: each the person's own choice, kept in this browser ----

const PREFS = 'wasl.notify';

export function notifyPrefs() {
  try {
    return { sound: true, desktop: false, ...JSON.parse(localStorage.getItem(PREFS) || '{}') };
  } catch {
    return { sound: true, desktop: false };
  }
}

export function setNotifyPrefs(change) {
  localStorage.setItem(PREFS, JSON.stringify({ ...notifyPrefs(), ...change }));
}

/** Asks the browser for permission, only ever from a person's click. */
export async function askDesktopPermission() {
  if (!('Notification' in window)) return 'unsupported';
  if (Notification.permission === 'default') await Notification.requestPermission();
  return Notification.permission;
}

let audio = null;
/** Two short soft tones, made here (no sound file to fetch). */
function chime() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    for (const [at, freq] of [[0, 880], [0.12, 1320]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.08, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.2);
    }
  } catch {
    // No audio (a browser that blocks it before any click): the title count still says it.
  }
}

/** A customer wrote while the person looks elsewhere: a sound and, if allowed, a notification. */
function announce(m) {
  if (!document.hidden && document.hasFocus()) return;
  const prefs = notifyPrefs();
  if (prefs.sound) chime();
  if (prefs.desktop && 'Notification' in window && Notification.permission === 'granted') {
    const body = m.content?.text || m.content?.caption || t(`type_${m.type}`);
    const n = new Notification(t('notifyTitle', { from: `+${m.from}` }), { body, tag: `wasl-${m.from}`, lang: document.documentElement.lang, dir: 'auto' });
    n.onclick = () => { window.focus(); n.close(); };
  }
}
