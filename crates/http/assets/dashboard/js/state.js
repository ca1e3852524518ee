// What pages share. The organization's sessions are read once and kept current for every page
// that shows them: a session event or a reconnect (whose missed events were replayed) reads
// them again, so the chat page and the sessions page agree, and going from one to the other
// shows the last known list at once instead of a spinner.
import { api, live } from './api.js';

const shared = {
  sessions: null,
  listeners: new Set(),
  reading: null,
  stale: false,
};

function publish() {
  for (const fn of shared.listeners) fn(shared.sessions);
}

export const sessions = {
  /** The last known sessions, or null before the first read. */
  get current() {
    return shared.sessions;
  },

  /** Reads the sessions now; callers asking while a read is under way share it. */
  refresh() {
    if (!shared.reading) {
      shared.reading = api('GET', '/whatsapp/sessions', { query: { limit: 100 } })
        .then((data) => {
          shared.sessions = data.sessions;
          shared.stale = false;
          publish();
          return data.sessions;
        })
        .finally(() => { shared.reading = null; });
    }
    return shared.reading;
  },

  /** Calls `fn(list)` with the known list at once (if any) and after every change; reads
   *  the list when it is unknown or may have changed unseen. Returns the unsubscribe. */
  subscribe(fn) {
    shared.listeners.add(fn);
    if (shared.sessions) fn(shared.sessions);
    if (!shared.sessions || shared.stale) this.refresh().catch(() => {});
    return () => shared.listeners.delete(fn);
  },

  /** Forgets everything (signing out: the next account must not see this one's). */
  reset() {
    shared.sessions = null;
    shared.stale = false;
  },
};

/** A change nobody is watching now is read when someone is. */
function changed() {
  if (shared.listeners.size > 0) sessions.refresh().catch(() => {});
  else shared.stale = true;
}

live.on((ev) => {
  if (ev.type === 'session.status' || ev.type === 'session.qr') changed();
});
live.onReconnect(changed);
