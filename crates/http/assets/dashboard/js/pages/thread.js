// One conversation: the bubbles with ticks and media, and the composer. The newest page of
// messages is read first; older ones a page at a time as the thread is scrolled up, the view
// kept still on the message being read.
import { t } from '../i18n.js';
import { api, live, MAX_MEDIA_BYTES, mediaUrl, rememberMedia, settleInterval } from '../api.js';
import { avatar, digitsOf, every, formatBytes, formatDay, formatTime, h, icon, iconButton, keyedList, phone, spinner, toast, toastError } from '../ui.js';

const NS = 'http://www.w3.org/2000/svg';
const PAGE = 50;
const OLDER_PAGE = 100;

/** Oldest first, as the thread reads; ties by id, the listing's own order. */
const byTime = (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const TICK_LABEL = { pending: 'msgPending', sent: 'msgSent', delivered: 'msgDelivered', read: 'msgRead', failed: 'msgFailed' };

/** The message's delivery state as WhatsApp shows it: clock, ✓, grey ✓✓, blue ✓✓, or red. */
export function tick(status) {
  const label = t(TICK_LABEL[status] || 'msgSent');
  if (status === 'pending') return h('span', { class: 'tick tick-pending', title: label, 'aria-label': label }, icon('clock', { size: 14 }));
  if (status === 'failed') return h('span', { class: 'tick tick-failed', title: label, 'aria-label': label }, icon('alert', { size: 14 }));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 18 12');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '12');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '1.8');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  const lines = status === 'sent' ? ['3 6.5 6.3 9.8 13 2.5'] : ['1.5 6.5 4.8 9.8 11.5 2.5', '7.8 9.3 8.3 9.8 15.5 2.5'];
  for (const points of lines) {
    const p = document.createElementNS(NS, 'polyline');
    p.setAttribute('points', points);
    svg.append(p);
  }
  return h('span', { class: `tick tick-${status}`, title: label, 'aria-label': label }, svg);
}

/** What a message looks like in one line (conversation list previews). */
export function preview(m) {
  if (!m) return '';
  if (m.type === 'text') return m.content?.text || '';
  return m.content?.caption || m.content?.filename || t(`type_${m.type}`);
}

function kindOf(file) {
  const type = file.type || '';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'document';
}

const KIND_ICON = { image: 'image', video: 'video', audio: 'mic', document: 'file' };

function mediaNode(m) {
  const box = h('div', { class: `media media-${m.type}` }, h('div', { class: 'media-loading' }, h('div', { class: 'spinner small' })));
  const source = m.localUrl ? Promise.resolve(m.localUrl) : mediaUrl(m.id);
  source.then((url) => {
    let node;
    const name = m.content?.filename || t(`type_${m.type}`);
    if (m.type === 'image') node = h('a', { href: url, target: '_blank', rel: 'noopener' }, h('img', { src: url, alt: m.content?.caption || name, loading: 'lazy' }));
    else if (m.type === 'video') node = h('video', { src: url, controls: true, preload: 'metadata', playsinline: true });
    else if (m.type === 'audio') node = h('audio', { src: url, controls: true, preload: 'metadata' });
    else {
      node = h('a', { class: 'doc', href: url, download: name },
        h('span', { class: 'doc-icon' }, icon('file', { size: 22 })),
        h('span', { class: 'doc-name', dir: 'auto', text: name }),
        h('span', { class: 'doc-dl' }, icon('download', { size: 18 }), h('span', { text: t('download') })));
    }
    box.replaceChildren(node);
  }).catch(() => {
    box.replaceChildren(h('div', { class: 'media-missing' }, icon(KIND_ICON[m.type] || 'file', { size: 18 }), h('span', { text: t('mediaUnavailable') })));
  });
  return box;
}

export function createThread(conv, { sessionStatus, onBack, onSent, onStatus }) {
  const sessionName = conv.sessionName;
  const number = conv.contact.phoneNumber;
  const messages = new Map(); // id -> message, from the server and from this composer
  const mediaNodes = new Map();
  let loaded = false;
  let current = conv;
  // Where the older messages start (null once the first message is here).
  let older = null;
  let loadingOlder = false;

  const list = h('div', { class: 'messages-inner' }, spinner(t('loadingMessages')));
  const scroller = h('div', { class: 'messages' }, list);
  const banner = h('div', { class: 'thread-banner', hidden: true });
  const title = h('div', { class: 'thread-title' });
  const actions = h('div', { class: 'thread-actions' });
  const head = h('header', { class: 'thread-head' },
    iconButton('back', t('back'), { class: 'icon-btn back-btn', 'data-action': 'back', onclick: onBack }),
    title, actions);

  /** Resolve or reopen, once the conversation exists (a new chat has no id until its first
   *  message). */
  function renderActions(c) {
    if (!c.id || !onStatus) {
      actions.replaceChildren();
      return;
    }
    const resolved = c.status === 'resolved';
    const label = t(resolved ? 'reopenConversation' : 'resolveConversation');
    actions.replaceChildren(
      h('span', { class: `chip chip-status chip-${c.status}`, 'data-thread-status': c.status, text: t(`conv_${c.status}`) }),
      h('button', {
        type: 'button', class: `btn btn-sm ${resolved ? 'btn-ghost' : 'btn-primary'}`,
        'data-action': resolved ? 'reopen' : 'resolve', title: label,
        onclick: (e) => {
          e.currentTarget.disabled = true;
          onStatus(c, resolved ? 'open' : 'resolved');
        },
      }, icon(resolved ? 'inbox' : 'check', { size: 16 }), h('span', { text: label })));
  }

  function renderHead(c) {
    renderActions(c);
    title.replaceChildren(
      avatar(c.contact.name, c.contact.phoneNumber),
      h('div', { class: 'thread-who' },
        h('strong', { dir: 'auto', text: c.contact.name || '' }, c.contact.name ? null : phone(c.contact.phoneNumber)),
        h('small', { class: 'muted' }, c.contact.name ? phone(c.contact.phoneNumber) : null, c.contact.name ? ' · ' : null, t('viaSession', { name: sessionName }))));
  }

  function renderBanner(status, blocked) {
    const parts = [];
    if (status && status !== 'connected') parts.push(t('sessionNotConnectedBar', { name: sessionName }));
    if (blocked) parts.push(t('contactBlockedBar'));
    banner.hidden = parts.length === 0;
    banner.replaceChildren(...(parts.length ? [icon('alert', { size: 16 }), h('span', { text: parts.join(' ') })] : []));
  }

  // ---- composer ----
  const fileInput = h('input', { id: 'composer-file', type: 'file', class: 'visually-hidden', tabindex: -1 });
  const text = h('textarea', { id: 'composer-text', rows: 1, dir: 'auto', maxlength: 4096, placeholder: t('typeMessage'), 'aria-label': t('typeMessage') });
  const sendBtn = h('button', { type: 'submit', class: 'send-btn', 'data-action': 'send', title: t('send'), 'aria-label': t('send') }, icon('send', { size: 20 }));
  const attachBtn = iconButton('clip', t('attach'), { 'data-action': 'attach', onclick: () => fileInput.click() });
  const attachmentBar = h('div', { class: 'attachment', hidden: true });
  let attachment = null;

  function setAttachment(file) {
    attachment = file;
    attachmentBar.hidden = !file;
    text.placeholder = file ? t('addCaption') : t('typeMessage');
    if (!file) {
      attachmentBar.replaceChildren();
      fileInput.value = '';
      return;
    }
    const kind = kindOf(file);
    const thumb = kind === 'image' ? h('img', { src: URL.createObjectURL(file), alt: '' }) : icon(KIND_ICON[kind], { size: 22 });
    attachmentBar.replaceChildren(
      h('span', { class: 'attachment-thumb' }, thumb),
      h('span', { class: 'attachment-info' }, h('b', { dir: 'auto', text: file.name }), h('small', { class: 'muted', text: `${t(`type_${kind}`)} · ${formatBytes(file.size)}` })),
      iconButton('x', t('removeAttachment'), { 'data-action': 'remove-attachment', onclick: () => setAttachment(null) }));
    text.focus();
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    if (file.size > MAX_MEDIA_BYTES) {
      toast(t('fileTooLarge'), 'error');
      fileInput.value = '';
      return;
    }
    setAttachment(file);
  });

  const form = h('form', { class: 'composer', id: 'composer' }, attachBtn, fileInput, h('div', { class: 'composer-input' }, attachmentBar, text), sendBtn);
  const grow = () => {
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight, 140)}px`;
  };
  text.addEventListener('input', grow);
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = text.value.trim();
    if (!attachment && !body) return;
    if (attachment) sendFile(attachment, body);
    else sendText(body);
    text.value = '';
    grow();
    setAttachment(null);
    text.focus();
  });

  let localSeq = 0;
  function addLocal(type, content, file) {
    const id = `local-${Date.now()}-${localSeq++}`;
    const m = { id, local: true, direction: 'outgoing', type, status: 'pending', content, createdAt: new Date().toISOString(), localUrl: file ? URL.createObjectURL(file) : null };
    messages.set(id, m);
    render(true);
    return m;
  }

  async function deliver(local, call, file) {
    try {
      const data = await call();
      messages.delete(local.id);
      if (file) rememberMedia(data.message.id, file);
      messages.set(data.message.id, data.message);
      render(true);
      onSent?.();
    } catch (err) {
      toastError(err);
      local.status = 'failed';
      local.errorMessage = err.message;
      render(true);
    }
  }

  function sendText(body) {
    const local = addLocal('text', { text: body });
    deliver(local, () => api('POST', '/whatsapp/messages/send', { json: { to: number, text: body, sessionName } }));
  }

  function sendFile(file, caption) {
    const kind = kindOf(file);
    const local = addLocal(kind, { caption: kind === 'audio' ? null : caption || null, filename: file.name, mimeType: file.type }, file);
    const fd = new FormData();
    fd.append('to', number);
    fd.append('sessionName', sessionName);
    if (caption && kind !== 'audio') fd.append('caption', caption);
    fd.append(kind, file, file.name);
    deliver(local, () => api('POST', `/whatsapp/messages/send-${kind}`, { form: fd }), file);
  }

  // ---- messages ----
  function bubble(m) {
    const out = m.direction === 'outgoing';
    const body = m.type === 'text' ? m.content?.text : m.content?.caption;
    if (m.type !== 'text' && !mediaNodes.has(m.id)) mediaNodes.set(m.id, mediaNode(m));
    return h('div', { class: `msg-row ${out ? 'out' : 'in'}`, 'data-id': m.id },
      h('div', {
        class: 'bubble', 'data-direction': m.direction, 'data-status': m.status, 'data-type': m.type,
        'data-message-id': m.messageId || '',
      },
      m.type !== 'text' ? mediaNodes.get(m.id) : null,
      body ? h('p', { class: 'msg-text', dir: 'auto', text: body }) : null,
      h('span', { class: 'meta' }, h('time', { datetime: m.createdAt, text: formatTime(m.sentAt || m.createdAt) }), out ? tick(m.status) : null)),
      m.status === 'failed' && m.errorMessage ? h('div', { class: 'msg-error' }, icon('alert', { size: 14 }), h('span', { text: m.errorMessage })) : null);
  }

  // Bubbles by message id and day separators by day: a receipt rebuilds its one bubble.
  const rows = keyedList(list, {
    key: (item) => (item.day ? `day:${item.day}` : item.m.id),
    sig: (item) => (item.day ? item.day : `${item.m.status}:${item.m.errorMessage || ''}`),
    row: (item) => (item.day ? h('div', { class: 'day-sep' }, h('span', { text: item.day })) : bubble(item.m)),
  });

  const olderMark = h('div', { class: 'list-more', 'aria-hidden': 'true' }, h('div', { class: 'spinner small' }));

  function render(forceBottom = false) {
    const ordered = [...messages.values()].sort(byTime);
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
    if (ordered.length === 0) {
      rows.clear();
      list.replaceChildren(h('div', { class: 'thread-empty' }, h('span', { text: t('noMessages') })));
      return;
    }
    const items = [];
    let day = '';
    for (const m of ordered) {
      const d = formatDay(m.createdAt);
      if (d !== day) {
        day = d;
        items.push({ day: d });
      }
      items.push({ m });
    }
    // The mark goes first, where keyedList would otherwise move every row past it.
    olderMark.remove();
    rows.update(items);
    if (older) list.prepend(olderMark);
    if (nearBottom || forceBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  // Media that finishes loading grows the thread: stay at the newest message.
  scroller.addEventListener('load', () => {
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 400) scroller.scrollTop = scroller.scrollHeight;
  }, true);

  const query = (extra) => ({ sessionName, contact: digitsOf(number), ...extra });

  /** The newest page, merged into what is shown: pages read further up stay. */
  async function refresh() {
    const data = await api('GET', '/whatsapp/messages', { query: query({ limit: PAGE }) });
    for (const m of data.messages) messages.set(m.id, m);
    const first = !loaded;
    if (first) older = data.pagination.nextCursor || null;
    loaded = true;
    render(first);
    if (first) fillUp();
  }

  /** The page before the oldest message shown, keeping the view on the message being read. */
  async function loadOlder() {
    if (!older || loadingOlder) return;
    loadingOlder = true;
    try {
      const data = await api('GET', '/whatsapp/messages', { query: query({ limit: OLDER_PAGE, cursor: older }) });
      const anchor = firstVisible();
      const top = anchor?.getBoundingClientRect().top;
      for (const m of data.messages) messages.set(m.id, m);
      older = data.pagination.nextCursor || null;
      render();
      // Whatever the browser's own anchoring did, the row being read ends where it was.
      if (anchor?.isConnected) scroller.scrollTop += anchor.getBoundingClientRect().top - top;
    } finally {
      loadingOlder = false;
    }
    fillUp();
  }

  /** The first row in view (the thread's top rows are the ones in view while older pages load). */
  function firstVisible() {
    const top = scroller.getBoundingClientRect().top;
    for (const row of list.children) {
      if (row !== olderMark && row.getBoundingClientRect().bottom > top) return row;
    }
    return null;
  }

  /** Reads older messages while the view is near the top (or too short to scroll). */
  function fillUp() {
    if (older && !loadingOlder && scroller.scrollTop < 600) loadOlder().catch(toastError);
  }
  scroller.addEventListener('scroll', fillUp, { passive: true });

  const el = h('section', { class: 'thread', 'data-session': sessionName, 'data-phone': digitsOf(number) }, head, banner, scroller, form);
  renderHead(conv);
  renderBanner(sessionStatus(sessionName), conv.contact.isBlocked);

  let failedOnce = false;
  const stop = every(settleInterval, () => refresh().catch((err) => {
    if (!failedOnce) toastError(err);
    failedOnce = true;
    if (!loaded) list.replaceChildren(h('div', { class: 'thread-empty' }, h('span', { text: err.message })));
  }));
  const off = live.on((ev) => {
    const m = ev.data;
    if (!ev.type?.startsWith('message.') || !m) return;
    if (m.sessionName === sessionName && (digitsOf(m.from) === digitsOf(number) || digitsOf(m.to) === digitsOf(number))) {
      messages.set(m.id, m);
      render();
    }
  });
  setTimeout(() => text.focus(), 0);

  return {
    el,
    key: `${sessionName}|${digitsOf(number)}`,
    update(c, status) {
      current = c;
      renderHead(c);
      renderBanner(status, c.contact.isBlocked);
    },
    get conversation() {
      return current;
    },
    refresh: () => refresh().catch(() => {}),
    destroy() {
      stop();
      off();
    },
  };
}
