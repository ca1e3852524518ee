// Small DOM helpers shared by every page: element builder, toasts, dialogs, formatting.
import { getLang, known, t, locale } from './i18n.js';

const getLangIsArabic = () => getLang() === 'ar';
import { icon } from './icons.js';

/**
 * Builds an element. `props`: class, text, html-free attributes, `on<Event>` handlers,
 * `dataset`. Children: nodes, strings, arrays, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export { icon };

/** A button with an icon and (optionally visible) label. */
export function iconButton(name, label, props = {}) {
  return h('button', { type: 'button', class: 'icon-btn', title: label, 'aria-label': label, ...props }, icon(name));
}

/** A phone number that keeps its left-to-right order inside Arabic text. */
export function phone(number) {
  if (!number) return h('span', { class: 'muted' }, t('never'));
  const digits = String(number).replace(/[^\d+]/g, '');
  const shown = digits.startsWith('+') ? digits : `+${digits}`;
  return h('bdi', { dir: 'ltr', class: 'phone' }, shown);
}

export function digitsOf(number) {
  return String(number || '').replace(/\D/g, '');
}

// ---- toasts ----

export function toast(message, kind = 'info', { timeout = 5000 } = {}) {
  const box = toastHost();
  if (!box) return;
  const names = { error: 'alert', success: 'check', info: 'message' };
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    icon(names[kind] || 'message', { size: 18 }),
    h('span', { class: 'toast-text', text: message }),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('close'), onclick: () => el.remove() }, icon('x', { size: 16 })));
  box.append(el);
  setTimeout(() => el.classList.add('leaving'), timeout);
  setTimeout(() => el.remove(), timeout + 300);
}

/**
 * Where a toast goes: the page's toast area, or, while a modal dialog is open, an area inside
 * that dialog. Everything outside an open modal dialog is inert (neither clickable nor on top
 * of it), so a toast about what the dialog asked for must live in the dialog.
 */
function toastHost() {
  const dialogs = [...document.querySelectorAll('dialog[open]')];
  const top = dialogs[dialogs.length - 1];
  if (!top) return document.getElementById('toasts');
  let box = top.querySelector(':scope > .toasts');
  if (!box) {
    box = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    top.append(box);
  }
  return box;
}

/** Clears the error toasts: they were about the page being left. */
export function clearErrorToasts() {
  for (const el of document.querySelectorAll('#toasts .toast-error')) el.remove();
}

/** Shows an API failure: the server's localized message, which already names the problem. */
export function toastError(err) {
  toast(err?.message || t('unexpectedError'), 'error', { timeout: 7000 });
}

/**
 * Shows an API's field errors beside their fields, translated from each field's code (the
 * reason the API gives is English, for developers). Returns whether any field was shown.
 */
export function showFieldErrors(form, err) {
  const fields = err?.details?.fields;
  if (!Array.isArray(fields)) return false;
  let shown = 0;
  for (const f of fields) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(f.field || '')}"]`);
    if (!slot) continue;
    const input = form.querySelector(`[name="${CSS.escape(f.field)}"]`);
    slot.textContent = known(`error_${f.code}`) ? t(`error_${f.code}`) : t('error_invalid');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      if (!shown) input.focus();
    }
    shown += 1;
  }
  return shown > 0;
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

// ---- dialogs ----

/**
 * Opens a modal <dialog>. `build(close)` returns the body; the dialog is removed on close.
 * Returns { el, close }.
 */
export function openDialog({ title, build, cls = '', onClose }) {
  const dialog = h('dialog', { class: `dialog ${cls}`.trim() });
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener('close', () => {
    // Its toasts outlive it: a "saved" said just before closing stays readable.
    const page = document.getElementById('toasts');
    for (const el of dialog.querySelectorAll(':scope > .toasts > .toast')) page?.append(el);
    dialog.remove();
    onClose?.();
  });
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) close();
  });
  dialog.append(
    h('header', { class: 'dialog-head' },
      h('h2', { text: title }),
      iconButton('x', t('close'), { onclick: close, 'data-action': 'close-dialog' })),
    h('div', { class: 'dialog-body' }, build(close)));
  document.body.append(dialog);
  dialog.showModal();
  return { el: dialog, close };
}

export function confirmDialog({ title, text, action, danger = false }) {
  return new Promise((resolve) => {
    let answered = false;
    openDialog({
      title,
      onClose: () => { if (!answered) resolve(false); },
      build: (close) => h('div', {},
        h('p', { class: 'dialog-text', text }),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')),
          h('button', {
            type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-action': 'confirm',
            onclick: () => { answered = true; resolve(true); close(); },
          }, action))),
    });
  });
}

// ---- states ----

export function spinner(label = t('loading')) {
  return h('div', { class: 'loading', role: 'status' }, h('div', { class: 'spinner' }), h('span', { text: label }));
}

export function emptyState(iconName, title, text, action) {
  return h('div', { class: 'empty' },
    h('div', { class: 'empty-icon' }, icon(iconName, { size: 34 })),
    h('h3', { text: title }),
    text ? h('p', { text }) : null,
    action || null);
}

// ---- avatars ----

const HUES = [152, 168, 200, 24, 280, 340, 48, 190];

/**
 * The initials of a name: the first letter of its first and last words, the Arabic article
 * "ال" skipped ("أحمد الغامدي" → "أغ"), kept apart by a zero-width non-joiner so that two
 * Arabic letters stay two letters rather than joining into one shape.
 */
export function initials(name) {
  const words = (name || '').trim().split(/\s+/).filter((w) => /\p{L}/u.test(w));
  if (!words.length) return '';
  const first = (word) => {
    const letters = [...word.replace(/^ال(?=\p{L}{2})/u, '')].filter((c) => /\p{L}/u.test(c));
    return (letters[0] || '').toLocaleUpperCase();
  };
  const picked = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0]];
  return picked.map(first).join('\u200C');
}

export function avatar(name, number, size = 'md') {
  const label = (name || '').trim();
  const letters = initials(label);
  const shown = letters || digitsOf(number).slice(-2);
  let hash = 0;
  for (const ch of label || String(number)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const el = h('span', { class: `avatar avatar-${size} hue-${hash % HUES.length}`, 'aria-hidden': 'true' }, h('bdi', {}, shown || '؟'));
  return el;
}

// ---- time ----

/** A message time as WhatsApp writes it: "10:22 م" in Arabic, "10:22" in English. */
export function formatTime(iso) {
  if (!iso) return '';
  const options = getLangIsArabic()
    ? { hour: 'numeric', minute: '2-digit', hour12: true }
    : { hour: '2-digit', minute: '2-digit', hour12: false };
  return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
}

function startOfDay(d) {
  const x = new Date(d);
  x.setHours(0, 0, 0, 0);
  return x.getTime();
}

/** "Today", "Yesterday", or the date. */
export function formatDay(iso) {
  const d = new Date(iso);
  const days = Math.round((startOfDay(Date.now()) - startOfDay(d)) / 86400000);
  if (days === 0) return t('today');
  if (days === 1) return t('yesterday');
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: days > 300 ? 'numeric' : undefined }).format(d);
}

/** A conversation list time: the hour today, else the short date. */
export function formatShort(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const days = Math.round((startOfDay(Date.now()) - startOfDay(d)) / 86400000);
  if (days === 0) return formatTime(iso);
  if (days === 1) return t('yesterday');
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short' }).format(d);
}

export function formatDateTime(iso) {
  if (!iso) return t('never');
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n ?? 0);
}

/** A size in the UI's language ("3 KB", "3 كيلوبايت"), to be shown isolated. */
export function formatBytes(n) {
  const [unit, value] = n < 1024 ? ['byte', n] : n < 1024 * 1024 ? ['kilobyte', n / 1024] : ['megabyte', n / 1024 / 1024];
  return new Intl.NumberFormat(locale(), {
    style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: unit === 'megabyte' ? 1 : 0,
  }).format(value);
}

/** Text isolated from what surrounds it, in its own direction (a name, a caption). */
export function bdi(text, props = {}) {
  return h('bdi', props, text);
}

/** A file name, read left to right whatever its letters ("فاتورة-1042.pdf" keeps its
 *  extension at the end), isolated from the sentence around it. */
export function fileName(name) {
  return h('bdi', { dir: 'ltr', class: 'file-name' }, name);
}

/**
 * Gives a text field the UI's direction until its text has a strong character, then that
 * character's direction (an English reply in the Arabic UI turns left to right as it is typed).
 */
export function followDirection(field) {
  const update = () => {
    const strong = field.value.match(/[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u04FF]|[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/);
    const dir = !strong ? document.documentElement.dir || 'rtl' : /[A-Za-z\u00C0-\u04FF]/.test(strong[0]) ? 'ltr' : 'rtl';
    if (field.dir !== dir) field.dir = dir;
  };
  field.addEventListener('input', update);
  update();
  return update;
}

// ---- timing ----

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Runs `fn` now and then every `ms` (a number or a function giving one), never overlapping,
 * and slower while the tab is hidden.
 * Returns a stop function.
 */
export function every(ms, fn) {
  let stopped = false;
  let timer;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch (e) {
      // A failed refresh is retried on the next tick; the user already saw a toast if needed.
    }
    const wait = typeof ms === 'function' ? ms() : ms;
    if (!stopped) timer = setTimeout(tick, document.hidden ? Math.max(wait, 10000) : wait);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

// ---- keyed lists ----

/**
 * A list whose rows are kept by key: `update(items)` builds a row only for an item that is new
 * or whose signature changed, and moves the others into order without rebuilding them, so a
 * new message updates its one row and focus, hover and media in the rest stay as they were.
 * `key(item)` names an item, `sig(item)` says when its row must be rebuilt, `row(item)` builds
 * it. Rows carry `data-key`.
 */
export function keyedList(container, { key, sig, row }) {
  const rows = new Map(); // key -> { sig, el }
  return {
    update(items) {
      // Keyboard focus stays where it was across updates: on the same row (or the same
      // control in it), even when that row is re-rendered or moved.
      const active = document.activeElement;
      const focusedRow = active && container.contains(active) ? active.closest('[data-key]') : null;
      const focusedKey = focusedRow?.dataset.key;
      const focusedAction = active?.dataset?.action;
      const wanted = new Set();
      let previous = null;
      for (const item of items) {
        const k = key(item);
        wanted.add(k);
        const s = sig(item);
        let entry = rows.get(k);
        if (!entry || entry.sig !== s) {
          const el = row(item);
          el.dataset.key = k;
          if (entry) entry.el.replaceWith(el);
          entry = { sig: s, el };
          rows.set(k, entry);
        }
        const expected = previous ? previous.nextSibling : container.firstChild;
        if (entry.el !== expected) container.insertBefore(entry.el, expected);
        previous = entry.el;
      }
      for (const [k, entry] of rows) {
        if (!wanted.has(k)) {
          entry.el.remove();
          rows.delete(k);
        }
      }
      // Anything else in the container (a spinner, an empty state) goes.
      while (previous ? previous.nextSibling : container.firstChild) {
        (previous ? previous.nextSibling : container.firstChild).remove();
      }
      if (focusedKey !== undefined && (!active.isConnected || document.activeElement !== active)) {
        const el = [...rows.values()].find((r) => r.el.dataset.key === focusedKey)?.el;
        const inner = active !== focusedRow && focusedAction ? el?.querySelector(`[data-action="${CSS.escape(focusedAction)}"]`) : null;
        (inner || el)?.focus({ preventScroll: true });
      }
    },
    /** The row of a key, when it is shown. */
    get(k) {
      return rows.get(k)?.el;
    },
    clear() {
      rows.clear();
    },
  };
}

/**
 * A keyed list (as `keyedList`) of which only a window of rows is in the page: the rows around
 * the one being read, between two spacers as tall as the rows outside it, so that 10,000 items
 * cost the DOM of `size`. Heights are the ones last laid out (`estimate(item, average)` for
 * rows never shown), and every move of the window puts the row being read back where it was
 * on screen, whatever the estimates were. The window follows the reader as `scroller` scrolls.
 *
 * `update(items, { at })` shows `items` with the view at `'start'` or `'end'`, around the row
 * of key `at`, or (by default) where the reader is. With `pinStart`, a reader at the very top
 * stays there as rows arrive above (a list sorted newest first).
 */
export function windowedList(scroller, container, { key, sig, row, estimate, size = 150, above = 60, edge = 1000, pinStart = false }) {
  const rows = keyedList(container, { key, sig, row });
  const heights = new Map(); // key -> px, the row's own and the gap after it
  const measured = { sum: 0, count: 0 };
  let items = [];
  let lo = 0; // the window is items[lo, hi)
  let hi = 0;
  const topPad = h('div', { class: 'list-spacer', 'aria-hidden': 'true' });
  const bottomPad = h('div', { class: 'list-spacer', 'aria-hidden': 'true' });
  container.before(topPad);
  container.after(bottomPad);

  const heightOf = (item) => heights.get(key(item)) ?? estimate(item, measured.count ? measured.sum / measured.count : null);
  const span = (from, to) => {
    let sum = 0;
    for (let i = from; i < to; i += 1) sum += heightOf(items[i]);
    return sum;
  };

  /** Remembers the height of every rendered row (one layout for all of them). */
  function measure() {
    const els = [...container.children].filter((el) => el.dataset.key !== undefined);
    const boxes = els.map((el) => el.getBoundingClientRect());
    const gap = parseFloat(getComputedStyle(container).rowGap) || 0;
    els.forEach((el, i) => {
      const height = i + 1 < els.length ? boxes[i + 1].top - boxes[i].top : boxes[i].height + gap;
      const before = heights.get(el.dataset.key);
      if (before === undefined) measured.count += 1;
      measured.sum += height - (before ?? 0);
      heights.set(el.dataset.key, height);
    });
  }

  /** The row the reader is on: its key and its top, relative to the view's top. */
  function anchorNow() {
    const view = scroller.getBoundingClientRect();
    for (const el of container.children) {
      const box = el.getBoundingClientRect();
      if (el.dataset.key !== undefined && box.bottom > view.top && box.top < view.bottom) return { key: el.dataset.key, top: box.top - view.top };
    }
    // The view is over a spacer (the scrollbar dragged far): the row the heights put there.
    const offset = view.top - topPad.getBoundingClientRect().top;
    let y = 0;
    for (const item of items) {
      const height = heightOf(item);
      if (y + height > offset) return { key: key(item), top: y - offset };
      y += height;
    }
    return null;
  }

  function place(at) {
    const n = items.length;
    const keep = at === null || at === undefined;
    const anchor = keep && !(pinStart && lo === 0 && scroller.scrollTop <= 1) ? anchorNow() : null;
    const target = keep ? anchor?.key : at;
    const index = target === 'end' ? n - 1 : target === 'start' || target === undefined ? 0 : items.findIndex((item) => key(item) === target);
    if (index >= 0) lo = Math.max(0, index - above);
    hi = Math.min(n, lo + size);
    lo = Math.max(0, Math.min(lo, hi - size));
    rows.update(items.slice(lo, hi));
    measure();
    topPad.style.height = `${span(0, lo)}px`;
    bottomPad.style.height = `${span(hi, n)}px`;
    if (at === 'end') scroller.scrollTop = scroller.scrollHeight;
    else if (at === 'start') scroller.scrollTop = 0;
    else if (anchor) {
      // Whatever the browser's own scroll anchoring did, the row being read ends where it was.
      const el = rows.get(anchor.key);
      if (el) scroller.scrollTop += el.getBoundingClientRect().top - scroller.getBoundingClientRect().top - anchor.top;
    }
  }

  let moving = false;
  scroller.addEventListener('scroll', () => {
    if (moving) return;
    moving = true;
    requestAnimationFrame(() => {
      moving = false;
      if (!items.length || !container.isConnected) return;
      const view = scroller.getBoundingClientRect();
      const box = container.getBoundingClientRect();
      if ((lo > 0 && box.top > view.top - edge) || (hi < items.length && box.bottom < view.bottom + edge)) place(null);
    });
  }, { passive: true });

  return {
    update(next, { at = null } = {}) {
      items = next;
      place(at);
    },
    /** The row of a key, when it is in the window. */
    get: (k) => rows.get(k),
    /** No rows (the container is the caller's, for an empty state). */
    clear() {
      rows.clear();
      items = [];
      lo = 0;
      hi = 0;
      topPad.style.height = bottomPad.style.height = '0px';
    },
    /** The first item is in the window. */
    get atStart() {
      return lo === 0;
    },
    /** The last item is in the window. */
    get atEnd() {
      return hi === items.length;
    },
  };
}

// ---- search highlighting ----

/** One character as the server's search folds it (crates/domain/src/search.rs): '' when it
 *  is dropped (diacritics, tatweel), else its folded form. */
function foldChar(c) {
  const code = c.codePointAt(0);
  if ((code >= 0x064b && code <= 0x065f) || code === 0x0670 || code === 0x0640) return '';
  if ('أإآٱ'.includes(c)) return 'ا';
  if (c === 'ة') return 'ه';
  if (c === 'ى' || c === 'ئ') return 'ي';
  if (c === 'ؤ') return 'و';
  if (code >= 0x0660 && code <= 0x0669) return String(code - 0x0660);
  if (code >= 0x06f0 && code <= 0x06f9) return String(code - 0x06f0);
  return c.toLowerCase();
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** The words of a search as the server matches them: folded, split on anything else. */
function searchTerms(query) {
  return [...new Set([...query].map(foldChar).join('').split(/[^\p{L}\p{N}]+/u).filter(Boolean))];
}

/**
 * `text` with the words a search found marked (`<mark>`): each word of `query` matches the
 * start of a word of the text, folded the way the server folds both, so "الاحمر" marks
 * "الأحمر" and "شكرا" marks "شكراً" (its tanwin included).
 */
export function highlighted(text, query) {
  const terms = searchTerms(query || '');
  if (!text || !terms.length) return [text];
  // The folded text, and for each folded character the original's [start, end).
  const chars = [...text];
  let folded = '';
  const from = [];
  const to = [];
  let offset = 0;
  for (const c of chars) {
    const f = foldChar(c);
    for (const x of f) {
      folded += x;
      from.push(offset);
      to.push(offset + c.length);
    }
    // A dropped mark belongs to the letter before it.
    if (!f && to.length) to[to.length - 1] = offset + c.length;
    offset += c.length;
  }
  const marks = [];
  const foldedChars = [...folded];
  for (let i = 0; i < foldedChars.length; i += 1) {
    if (!WORD_CHAR.test(foldedChars[i]) || (i > 0 && WORD_CHAR.test(foldedChars[i - 1]))) continue;
    const rest = foldedChars.slice(i, i + 64).join('');
    const term = terms.filter((w) => rest.startsWith(w)).sort((a, b) => b.length - a.length)[0];
    if (term) marks.push([from[i], to[i + [...term].length - 1]]);
  }
  if (!marks.length) return [text];
  const out = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (start < at) continue;
    if (start > at) out.push(text.slice(at, start));
    out.push(h('mark', { text: text.slice(start, end) }));
    at = end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

// WhatsApp's own formatting, as a phone shows it: *bold*, _italic_, ~strikethrough~ and
// ```monospace```. A marker counts only around text that does not begin or end with a space
// and not inside a word, as on WhatsApp; the text is never parsed as HTML.
const FORMATS = { '*': 'b', _: 'i', '~': 's' };
const MARKED = /```([\s\S]+?)```|(?<![\p{L}\p{N}])([*_~])(?!\s)([^\n]*?[^\s])\2(?![\p{L}\p{N}])/gu;

export function formatted(text) {
  const out = [];
  let last = 0;
  for (const m of String(text || '').matchAll(MARKED)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(m[1] !== undefined
      ? h('code', { class: 'wa-mono', text: m[1] })
      : h(FORMATS[m[2]], {}, formatted(m[3])));
    last = m.index + m[0].length;
  }
  if (last < String(text || '').length) out.push(text.slice(last));
  return out;
}
