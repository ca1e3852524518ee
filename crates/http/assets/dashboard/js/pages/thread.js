// One conversation: the bubbles with ticks and media, and the composer. The newest page of
// messages is read first; older ones a page at a time as the thread is scrolled up, the view
// kept still on the message being read.
import { t } from '../i18n.js';
import { EMOJI_GROUPS, EMOJI_NAMES } from '../emoji.js';
import { api, live, MAX_MEDIA_BYTES, mediaUrl, rememberMedia, settleInterval } from '../api.js';
import { avatar, bdi, digitsOf, every, fileName, followDirection, formatBytes, formatDay, formatTime, formatted, h, highlighted, icon, iconButton, openDialog, phone, spinner, toast, toastError, windowedList } from '../ui.js';
import { editDialog } from './contacts.js';
import { quickPicker } from '../quick_pick.js';

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

/** A document's type as people know it: its extension ("PDF"), else its media subtype. */
function docType(m) {
  const ext = (m.content?.filename || '').match(/\.([A-Za-z0-9]{1,8})$/)?.[1];
  if (ext) return ext.toUpperCase();
  const sub = (m.content?.mimeType || '').split('/')[1]?.split(/[;+]/)[0];
  return sub && sub.length <= 12 ? sub.toUpperCase() : '';
}

/** An image at full size over the page, closed by Escape, the close button or a click
 *  beside it; with its caption and a download. */
function lightbox(url, caption, name) {
  openDialog({
    title: caption || name,
    cls: 'lightbox',
    build: (close) => {
      const figure = h('figure', { class: 'lightbox-figure', onclick: (e) => { if (e.target === figure) close(); } },
        h('img', { src: url, alt: caption || name }),
        caption ? h('figcaption', { dir: 'auto', text: caption }) : null);
      return [figure, h('div', { class: 'dialog-actions' },
        h('a', { class: 'btn btn-ghost', href: url, download: name || 'image', 'data-action': 'download-image' }, icon('download', { size: 16 }), h('span', { text: t('download') })),
        h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'close-lightbox', onclick: close }, t('close')))];
    },
  });
}

/** The emoji button and its panel: groups, a search in both languages, a click inserts. */
function emojiPicker(insert, refocus) {
  const panel = h('div', { class: 'emoji-panel', role: 'dialog', 'aria-label': t('emoji'), hidden: true });
  const search = h('input', { type: 'search', class: 'emoji-search', placeholder: t('searchEmoji'), 'aria-label': t('searchEmoji') });
  const grid = h('div', { class: 'emoji-grid' });
  const pick = (e) => h('button', { type: 'button', class: 'emoji', 'data-emoji': e, title: EMOJI_NAMES[e] || e, 'aria-label': EMOJI_NAMES[e] || e,
    onclick: () => insert(e) }, e);
  const show = (filter) => {
    const q = filter.trim().toLocaleLowerCase();
    grid.replaceChildren(...EMOJI_GROUPS.flatMap(([group, list]) => {
      const found = q ? list.filter((e) => (EMOJI_NAMES[e] || '').toLocaleLowerCase().includes(q)) : list;
      return found.length ? [h('div', { class: 'emoji-group', text: t(`emoji_${group}`) }), ...found.map(pick)] : [];
    }));
    if (!grid.childElementCount) grid.append(h('p', { class: 'muted', text: t('noResults') }));
  };
  search.addEventListener('input', () => show(search.value));
  // Enter picks the first emoji found, and never sends the message.
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    grid.querySelector('.emoji')?.click();
  });
  panel.append(search, grid);
  const close = () => {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
      refocus();
    }
  });
  const button = h('button', { type: 'button', class: 'icon-btn emoji-btn', 'data-action': 'emoji', 'aria-label': t('emoji'), title: t('emoji'),
    'aria-expanded': 'false', 'aria-haspopup': 'dialog',
    onclick: () => {
      if (!panel.hidden) return close();
      show('');
      panel.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      search.focus();
    } }, icon('smile', { size: 20 }));
  return { button, panel, close };
}

const KIND_ICON = { image: 'image', video: 'video', audio: 'mic', document: 'file' };
// The reactions WhatsApp offers first; any other emoji can come from the customer.
const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

function mediaNode(m) {
  const box = h('div', { class: `media media-${m.type}` }, h('div', { class: 'media-loading' }, h('div', { class: 'spinner small' })));
  const source = m.localUrl ? Promise.resolve(m.localUrl) : mediaUrl(m.id);
  source.then((url) => {
    let node;
    const name = m.content?.filename || t(`type_${m.type}`);
    if (m.type === 'image') {
      node = h('a', { href: url, class: 'image-link', 'data-action': 'view-image',
        onclick: (e) => { e.preventDefault(); lightbox(url, m.content?.caption || '', name); } },
      h('img', { src: url, alt: m.content?.caption || name, loading: 'lazy' }));
    }
    else if (m.type === 'video') node = h('video', { src: url, controls: true, preload: 'metadata', playsinline: true });
    else if (m.type === 'audio') node = h('audio', { src: url, controls: true, preload: 'metadata' });
    else {
      node = h('a', { class: 'doc', href: url, download: name },
        h('span', { class: 'doc-icon' }, icon('file', { size: 22 })),
        h('span', { class: 'doc-name' }, m.content?.filename ? fileName(name) : name,
          docType(m) ? h('small', { class: 'doc-type', text: docType(m) }) : null),
        h('span', { class: 'doc-dl' }, icon('download', { size: 18 }), h('span', { text: t('download') })));
    }
    box.replaceChildren(node);
  }).catch(() => {
    box.replaceChildren(h('div', { class: 'media-missing' }, icon(KIND_ICON[m.type] || 'file', { size: 18 }), h('span', { text: t('mediaUnavailable') })));
  });
  return box;
}

export function createThread(conv, { sessionStatus, onBack, onSent, onStatus, onReconnect }) {
  const sessionName = conv.sessionName;
  // As typed for a new chat (`0551112233`) until the server says its one form.
  let number = conv.contact.phoneNumber;
  const messages = new Map(); // id -> message, from the server and from this composer
  const mediaNodes = new Map();
  let loaded = false;
  let markLoaded = () => {};
  const firstLoad = new Promise((resolve) => { markLoaded = resolve; });
  let current = conv;
  // Where the older messages start (null once the first message is here).
  let older = null;
  let loadingOlder = false;

  const list = h('div', { class: 'messages-inner' }, spinner(t('loadingMessages')));
  const scroller = h('div', { class: 'messages' }, list);
  const banner = h('div', { class: 'thread-banner', hidden: true });
  const title = h('div', { class: 'thread-title' });
  const actions = h('div', { class: 'thread-actions' });
  const searchBtn = iconButton('search', t('searchInChat'), { 'data-action': 'search-chat', 'aria-expanded': 'false', onclick: () => toggleSearch() });
  const head = h('header', { class: 'thread-head' },
    iconButton('back', t('back'), { class: 'icon-btn back-btn', 'data-action': 'back', onclick: onBack }),
    title, actions, searchBtn);

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

  // The contact beside the thread: who they are, tags, notes, CRM id, block and edit.
  const panel = h('aside', { class: 'contact-panel', hidden: true, 'aria-label': t('contactDetails') });
  function renderPanel() {
    const c = current.contact;
    const row = (label, value) => (value ? [h('dt', { text: label }), h('dd', {}, value)] : []);
    panel.replaceChildren(
      h('header', { class: 'contact-panel-head' },
        h('h2', { text: t('contactDetails') }),
        iconButton('x', t('close'), { 'data-action': 'close-contact', onclick: () => togglePanel(false) })),
      h('div', { class: 'contact-id' }, avatar(c.name, c.phoneNumber, 'lg'),
        h('div', {}, h('strong', {}, h('bdi', { text: c.name || t('unnamed') })), h('div', {}, phone(c.phoneNumber)))),
      h('dl', { class: 'facts' },
        ...row(t('tags'), c.tags?.length ? h('span', { class: 'chips' }, ...c.tags.map((tag) => h('span', { class: 'chip' }, h('bdi', { text: tag })))) : null),
        ...row(t('notes'), c.notes ? h('p', { dir: 'auto', class: 'contact-notes', text: c.notes }) : null),
        ...row(t('relatedCustomer'), c.relatedCustomer ? h('bdi', { dir: 'ltr', text: c.relatedCustomer }) : null)),
      h('div', { class: 'contact-panel-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-action': 'edit-contact',
          onclick: () => editDialog(c, (saved) => {
            current = { ...current, contact: { ...current.contact, ...saved } };
            renderHead(current);
            renderPanel();
            renderBanner(sessionStatus(sessionName), current.contact.isBlocked);
          }) }, icon('edit', { size: 16 }), h('span', { text: t('editContact') })),
        c.isBlocked
          ? h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'panel-unblock', onclick: unblock }, t('unblockContact'))
          : h('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm', 'data-action': 'panel-block', onclick: block }, icon('block', { size: 16 }), h('span', { text: t('blockContact') }))));
  }
  // Search of this chat's messages, beside the thread; a result shows its message in place.
  const searchInput = h('input', { type: 'search', class: 'search-input', id: 'chat-search', placeholder: t('searchInChat'), 'aria-label': t('searchInChat') });
  const searchHits = h('div', { class: 'search-hits', role: 'list', 'aria-live': 'polite' });
  const searchPanel = h('aside', { class: 'contact-panel search-panel', hidden: true, 'aria-label': t('searchInChat') },
    h('header', { class: 'contact-panel-head' },
      h('h2', { text: t('searchInChat') }),
      iconButton('x', t('close'), { 'data-action': 'close-search', onclick: () => toggleSearch(false) })),
    h('div', { class: 'search' }, icon('search', { size: 18 }), searchInput),
    searchHits);
  let searchRun = 0;
  async function runSearch() {
    const q = searchInput.value.trim();
    const run = ++searchRun;
    if (!q) {
      searchHits.replaceChildren();
      return;
    }
    try {
      const data = await api('GET', '/whatsapp/messages', { query: query({ q, limit: 50 }) });
      if (run !== searchRun) return;
      const total = data.pagination.total ?? data.messages.length;
      searchHits.replaceChildren(
        h('p', { class: 'muted search-count', text: t('searchFound', { n: total }) }),
        ...data.messages.map((m) => h('button', {
          type: 'button', class: 'search-hit', role: 'listitem', 'data-id': m.id,
          onclick: () => {
            if (window.matchMedia('(max-width: 820px)').matches) toggleSearch(false);
            jumpTo(m.id);
          },
        },
        h('span', { class: 'search-hit-who' }, m.direction === 'outgoing' ? t('you') : current.contact.name ? h('bdi', { text: current.contact.name }) : phone(current.contact.phoneNumber),
          h('time', { datetime: m.createdAt, text: `${formatDay(m.createdAt)} ${formatTime(m.createdAt)}` })),
        h('span', { class: 'search-hit-text', dir: 'auto' },
          ...(m.type === 'document' && !m.content?.caption ? [fileName(m.content?.filename || '')] : highlighted(preview(m), q))))));
    } catch (err) {
      if (run === searchRun) searchHits.replaceChildren(h('p', { class: 'field-error', role: 'alert', text: err.message }));
    }
  }
  let searchTimer = null;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => runSearch(), 250);
  });
  searchInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      clearTimeout(searchTimer);
      runSearch();
    }
  });
  searchPanel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      toggleSearch(false);
      searchBtn.focus();
    }
  });
  function toggleSearch(open = searchPanel.hidden) {
    searchPanel.hidden = !open;
    searchBtn.setAttribute('aria-expanded', String(open));
    if (open) {
      panel.hidden = true;
      searchInput.focus();
    }
  }

  function togglePanel(open = panel.hidden) {
    panel.hidden = !open;
    if (open) searchPanel.hidden = true;
    if (open) {
      renderPanel();
      panel.querySelector('[data-action=close-contact]')?.focus();
    }
  }

  function renderHead(c) {
    renderActions(c);
    title.replaceChildren(
      c.contact.id
        ? h('button', { type: 'button', class: 'who-btn', 'data-action': 'contact-info', 'aria-label': t('contactDetails'), onclick: () => togglePanel() },
          avatar(c.contact.name, c.contact.phoneNumber))
        : avatar(c.contact.name, c.contact.phoneNumber),
      h('div', { class: 'thread-who' },
        h('strong', {}, c.contact.name ? h('bdi', { text: c.contact.name }) : phone(c.contact.phoneNumber),
          c.contact.optedOut ? h('span', { class: 'badge badge-opted-out', 'data-opted-out': '', title: t('optedOutHint') }, t('optedOut')) : null),
        h('small', { class: 'muted' }, c.contact.name ? phone(c.contact.phoneNumber) : null, c.contact.name ? ' · ' : null, t('viaSession', { name: sessionName }))));
  }

  // Why nothing can be sent now, said above the composer with the way out right there.
  let bannerTimer = null;
  function renderBanner(status, blocked) {
    clearTimeout(bannerTimer);
    const down = !!status && !['connected', 'connecting', 'qr'].includes(status);
    const reconnecting = status === 'connecting' || status === 'qr';
    const show = (textKey, action) => {
      banner.hidden = false;
      banner.dataset.reason = textKey;
      banner.replaceChildren(icon('alert', { size: 16 }), h('span', { text: t(textKey, { name: sessionName }) }), action || null);
    };
    banner.hidden = true;
    banner.replaceChildren();
    delete banner.dataset.reason;
    if (blocked) {
      show('contactBlockedBar', current.contact.id
        ? h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'unblock', onclick: unblock }, t('unblockContact'))
        : null);
    } else if (down) {
      show('sessionNotConnectedBar', onReconnect
        ? h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'reconnect', onclick: onReconnect }, t('reconnect'))
        : null);
    } else if (reconnecting) {
      // A reconnect of a moment stays quiet; a longer one is said.
      bannerTimer = setTimeout(() => show('sessionReconnectingBar'), 3000);
    }
    setComposer(!(blocked || down), !(blocked || down || reconnecting), blocked ? 'contactBlockedBar' : down ? 'sessionNotConnectedBar' : null);
  }

  /** Blocks or unblocks the contact, from the banner or the panel; both follow. */
  async function setBlocked(blocked, e) {
    e.currentTarget.disabled = true;
    try {
      const data = await api('PUT', `/whatsapp/contacts/${encodeURIComponent(current.contact.id)}`, { json: { isBlocked: blocked } });
      current = { ...current, contact: { ...current.contact, ...data.contact } };
      renderBanner(sessionStatus(sessionName), blocked);
      if (!panel.hidden) renderPanel();
      if (!blocked) {
        toast(t('contactUnblocked'), 'success');
        text.focus();
      }
    } catch (err) {
      toastError(err);
      e.currentTarget.disabled = false;
    }
  }
  const block = (e) => setBlocked(true, e);
  const unblock = (e) => setBlocked(false, e);

  // ---- composer ----
  const fileInput = h('input', { id: 'composer-file', type: 'file', class: 'visually-hidden', tabindex: -1 });
  // The UI's direction until the first strong character, then that character's (not `auto`,
  // which puts an empty Arabic composer's caret and placeholder on the left).
  const text = h('textarea', { id: 'composer-text', rows: 1, maxlength: 4096, placeholder: t('typeMessage'), 'aria-label': t('typeMessage') });
  const redirect = followDirection(text);
  const sendBtn = h('button', { type: 'submit', class: 'send-btn', 'data-action': 'send', title: t('send'), 'aria-label': t('send') }, icon('send', { size: 20 }));
  const attachBtn = iconButton('clip', t('attach'), { 'data-action': 'attach', onclick: () => fileInput.click() });
  const emoji = emojiPicker((e) => {
    // At the caret, replacing any selection, as typing it would.
    text.setRangeText(e, text.selectionStart, text.selectionEnd, 'end');
    text.dispatchEvent(new Event('input'));
  }, () => text.focus());
  const attachmentBar = h('div', { class: 'attachment', hidden: true });
  let attachment = null;

  // The message being answered, quoted above the composer until it is sent or cancelled.
  const replyBar = h('div', { class: 'reply-bar', hidden: true, 'data-reply': '' });
  let replyTo = null;
  function setReply(m) {
    replyTo = m && !m.local ? m : null;
    replyBar.hidden = !replyTo;
    replyBar.dataset.reply = replyTo?.id || '';
    if (!replyTo) {
      replyBar.replaceChildren();
      return;
    }
    replyBar.replaceChildren(
      quoteNode(quoteOf(replyTo)),
      iconButton('x', t('cancelReply'), { 'data-action': 'cancel-reply', onclick: () => { setReply(null); text.focus(); } }));
    text.focus();
  }

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
      h('span', { class: 'attachment-info' }, h('b', {}, fileName(file.name)), h('small', { class: 'muted' }, t(`type_${kind}`), ' · ', bdi(formatBytes(file.size)))),
      iconButton('x', t('removeAttachment'), { 'data-action': 'remove-attachment', onclick: () => setAttachment(null) }));
    text.focus();
  }

  /** A file chosen, dropped or pasted, once it fits; false when it does not. */
  function attach(file) {
    if (!file || text.disabled) return false;
    if (file.size > MAX_MEDIA_BYTES) {
      toast(t('fileTooLarge'), 'error');
      fileInput.value = '';
      return false;
    }
    setAttachment(file);
    text.focus();
    return true;
  }
  fileInput.addEventListener('change', () => attach(fileInput.files?.[0]));
  // `/` opens the quick replies; registered before the composer's keys so Enter picks.
  const quick = quickPicker(text, { attach });
  // A pasted image (a screenshot) or file becomes the attachment; pasted text stays text.
  text.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files || [])][0];
    if (file && attach(file)) e.preventDefault();
  });

  // Voice notes, recorded here and sent as WhatsApp voice notes (the server turns the
  // browser's WebM into the Ogg phones play). The microphone is asked for on the first press.
  const canRecord = !!(navigator.mediaDevices?.getUserMedia && window.MediaRecorder);
  const recordBtn = iconButton('mic', t('recordVoice'), { 'data-action': 'record', hidden: !canRecord, onclick: () => startRecording() });
  const recordTime = h('time', { class: 'record-time', text: '0:00' });
  const recordBar = h('div', { class: 'recording', hidden: true, role: 'status', 'data-chunks': '0' },
    h('span', { class: 'record-dot', 'aria-hidden': 'true' }), h('span', { text: t('recording') }), recordTime,
    iconButton('x', t('cancelRecording'), { 'data-action': 'cancel-recording', onclick: () => stopRecording(false) }),
    h('button', { type: 'button', class: 'send-btn', 'data-action': 'send-recording', title: t('sendVoice'), 'aria-label': t('sendVoice'),
      onclick: () => stopRecording(true) }, icon('send', { size: 20 })));
  let recorder = null;
  const MAX_RECORDING_MS = 15 * 60 * 1000;
  async function startRecording() {
    if (recorder || text.disabled) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      toast(t('micDenied'), 'error');
      return;
    }
    const type = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus'].find((m) => MediaRecorder.isTypeSupported(m)) || '';
    const rec = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    const started = Date.now();
    const tick = setInterval(() => {
      const s = Math.floor((Date.now() - started) / 1000);
      recordTime.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      if (Date.now() - started > MAX_RECORDING_MS) stopRecording(true);
    }, 250);
    recorder = { rec, stream, chunks, tick, send: false };
    rec.addEventListener('dataavailable', (e) => {
      if (e.data.size) chunks.push(e.data);
      recordBar.dataset.chunks = String(chunks.length);
    });
    rec.addEventListener('stop', () => {
      clearInterval(tick);
      stream.getTracks().forEach((track) => track.stop());
      const { send } = recorder;
      recorder = null;
      form.classList.remove('is-recording');
      recordBar.hidden = true;
      recordBar.dataset.chunks = '0';
      recordTime.textContent = '0:00';
      if (send && chunks.length) {
        const mime = (rec.mimeType || type || 'audio/webm').split(';')[0];
        const ext = mime.includes('ogg') ? 'ogg' : 'webm';
        const file = new File(chunks, `voice-note.${ext}`, { type: mime });
        sendFile(file, '', replyTo, { ptt: true });
        setReply(null);
      }
      recordBtn.focus();
    });
    rec.start(250);
    form.classList.add('is-recording');
    recordBar.hidden = false;
    recordBar.querySelector('[data-action=send-recording]').focus();
  }
  function stopRecording(send) {
    if (!recorder) return;
    recorder.send = send;
    if (recorder.rec.state !== 'inactive') recorder.rec.stop();
  }
  recordBar.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      stopRecording(false);
    }
  });

  const form = h('form', { class: 'composer', id: 'composer' }, emoji.panel, quick.el, emoji.button, attachBtn, fileInput, h('div', { class: 'composer-input' }, replyBar, attachmentBar, text), recordBtn, sendBtn, recordBar);
  /** Whether one may write and send; `why` is the banner's reason, also the placeholder. */
  function setComposer(writable, sendable, why) {
    const wasFocused = document.activeElement === text;
    text.disabled = !writable;
    attachBtn.disabled = !writable;
    recordBtn.disabled = !sendable;
    if (!sendable) stopRecording(false);
    emoji.button.disabled = !writable;
    if (!writable) emoji.close();
    sendBtn.disabled = !sendable;
    text.placeholder = why ? t(why, { name: sessionName }) : attachment ? t('addCaption') : t('typeMessage');
    form.dataset.blocked = writable ? '' : why || '';
    if (wasFocused && writable) text.focus();
  }
  const grow = () => {
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight, 140)}px`;
  };
  text.addEventListener('input', grow);
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === 'Escape' && replyTo) {
      e.stopPropagation();
      setReply(null);
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = text.value.trim();
    // Nothing goes while the session is down or the contact blocked: the text stays typed.
    if (sendBtn.disabled || (!attachment && !body)) return;
    const quoted = replyTo;
    if (attachment) sendFile(attachment, body, quoted);
    else sendText(body, quoted);
    text.value = '';
    redirect();
    grow();
    setAttachment(null);
    setReply(null);
    text.focus();
  });

  // Sends that failed stay, with retry and delete; failed texts are kept in this browser so
  // that a reload does not lose what was typed (a file must be attached again).
  const failedKey = `wasl.failed.${sessionName}|${digitsOf(number)}`;
  const keptFailures = () => {
    try {
      return JSON.parse(localStorage.getItem(failedKey) || '[]');
    } catch {
      return [];
    }
  };
  const keepFailures = () => {
    const failed = [...messages.values()].filter((m) => m.local && m.status === 'failed' && m.type === 'text')
      .map(({ id, type, content, createdAt, errorMessage, quoted }) => ({ id, type, content, createdAt, errorMessage, quoted }));
    if (failed.length) localStorage.setItem(failedKey, JSON.stringify(failed.slice(-50)));
    else localStorage.removeItem(failedKey);
  };
  for (const m of keptFailures()) messages.set(m.id, { ...m, local: true, direction: 'outgoing', status: 'failed' });

  let localSeq = 0;
  function addLocal(type, content, file, quoted) {
    const id = `local-${Date.now()}-${localSeq++}`;
    const m = { id, local: true, direction: 'outgoing', type, status: 'pending', content, createdAt: new Date().toISOString(), localUrl: file ? URL.createObjectURL(file) : null,
      quoted: quoted ? quoteOf(quoted) : null, reactions: [] };
    messages.set(id, m);
    render(true);
    return m;
  }

  async function deliver(local) {
    local.status = 'pending';
    delete local.errorMessage;
    render(true);
    try {
      const data = await local.send();
      adopt(data.message.to);
      messages.delete(local.id);
      if (local.file) rememberMedia(data.message.id, local.file);
      messages.set(data.message.id, data.message);
      keepFailures();
      render(true);
      onSent?.();
    } catch (err) {
      toastError(err);
      local.status = 'failed';
      local.errorMessage = err.message;
      keepFailures();
      render(true);
    }
  }

  /** The number as the server wrote it: the thread follows that contact from now on. */
  function adopt(canonical) {
    if (!canonical || digitsOf(canonical) === digitsOf(number)) return;
    number = canonical;
    current.contact.phoneNumber = canonical;
    el.dataset.phone = digitsOf(canonical);
    renderHead(current);
  }

  /** The send of a text, as first made and as retried (the same key: one message). */
  function textSend(m) {
    const quotedMessageId = m.quoted?.id || undefined;
    return () => api('POST', '/whatsapp/messages/send', { json: { to: number, text: m.content.text, sessionName, quotedMessageId }, idempotencyKey: m.id });
  }

  function sendText(body, quoted) {
    const local = addLocal('text', { text: body }, null, quoted);
    local.send = textSend(local);
    deliver(local);
  }

  function sendFile(file, caption, quoted, { ptt = false } = {}) {
    const kind = kindOf(file);
    const local = addLocal(kind, { caption: kind === 'audio' ? null : caption || null, filename: file.name, mimeType: file.type }, file, quoted);
    local.file = file;
    local.send = () => {
      const fd = new FormData();
      fd.append('to', number);
      fd.append('sessionName', sessionName);
      if (quoted) fd.append('quotedMessageId', quoted.id);
      if (ptt) fd.append('ptt', 'true');
      if (caption && kind !== 'audio') fd.append('caption', caption);
      fd.append(kind, file, file.name);
      return api('POST', `/whatsapp/messages/send-${kind}`, { form: fd, idempotencyKey: local.id });
    };
    deliver(local);
  }

  function retry(m) {
    if (!m.send && m.type === 'text') m.send = textSend(m);
    if (m.send) deliver(m);
  }

  function discard(m) {
    messages.delete(m.id);
    keepFailures();
    render();
  }

  // ---- messages ----
  /** What a quote of `m` shows, in the API's shape. */
  function quoteOf(m) {
    return { id: m.id, messageId: m.messageId, direction: m.direction, type: m.type,
      text: m.content?.text || m.content?.caption || m.content?.filename || null };
  }

  /** The quoted message above a reply (or above the composer): who wrote it and its start. */
  function quoteNode(q) {
    const who = q.direction === 'outgoing' ? t('you') : current.contact.name || null;
    return h('span', { class: 'quote-body', 'data-quote-direction': q.direction },
      h('b', { class: 'quote-who' }, who ? h('bdi', { text: who }) : phone(current.contact.phoneNumber)),
      h('span', { class: 'quote-text', dir: 'auto' },
        q.type !== 'text' ? icon(KIND_ICON[q.type] || 'file', { size: 14 }) : null,
        q.text ? (q.type === 'document' ? fileName(q.text) : q.text) : t(`type_${q.type}`)));
  }

  function bubble(m) {
    const out = m.direction === 'outgoing';
    const body = m.type === 'text' ? m.content?.text : m.content?.caption;
    if (m.type !== 'text' && !mediaNodes.has(m.id)) mediaNodes.set(m.id, mediaNode(m));
    const q = m.quoted;
    const mine = (m.reactions || []).find((r) => r.by === 'business')?.emoji;
    return h('div', { class: `msg-row ${out ? 'out' : 'in'}`, 'data-id': m.id },
      h('div', {
        class: 'bubble', 'data-direction': m.direction, 'data-status': m.status, 'data-type': m.type,
        'data-message-id': m.messageId || '',
      },
      q ? h('button', { type: 'button', class: 'quote', 'data-action': 'open-quote', 'data-quoted': q.id || '',
        'aria-label': t('goToQuoted'), disabled: !q.id, onclick: () => q.id && jumpTo(q.id) }, quoteNode(q)) : null,
      m.type !== 'text' ? mediaNodes.get(m.id) : null,
      body ? h('p', { class: 'msg-text', dir: 'auto' }, formatted(body)) : null,
      h('span', { class: 'meta' },
        m.metadata?.automation ? h('span', { class: 'automated', 'data-automation': m.metadata.automation.kind, title: t(`automation_${m.metadata.automation.kind}`) },
          icon('zap', { size: 12 }), h('span', { text: t('automated') })) : null,
        h('time', { datetime: m.createdAt, text: formatTime(m.sentAt || m.createdAt) }), out ? tick(m.status) : null),
      m.reactions?.length ? h('span', { class: 'reactions', role: 'group', 'aria-label': t('reactions') },
        ...m.reactions.map((r) => h('span', { class: 'reaction', 'data-by': r.by, title: t(r.by === 'business' ? 'reactionByYou' : 'reactionByCustomer'), text: r.emoji })))
        : null),
      m.local ? null : h('div', { class: 'msg-actions' },
        iconButton('reply', t('reply'), { 'data-action': 'reply', onclick: () => setReply(m) }),
        sent(m) ? iconButton('smile', t('react'), { 'data-action': 'react', 'aria-haspopup': 'true', 'aria-expanded': 'false',
          onclick: (e) => reactMenu(m, mine, e.currentTarget) }) : null),
      m.status === 'failed' && m.local ? h('div', { class: 'msg-error', role: 'alert' }, icon('alert', { size: 14 }),
        h('span', { text: m.errorMessage || t('msgFailed') }),
        m.send || m.type === 'text'
          ? h('button', { type: 'button', class: 'link-btn', 'data-action': 'retry', onclick: () => retry(m) }, t('retry'))
          : null,
        h('button', { type: 'button', class: 'link-btn', 'data-action': 'discard', onclick: () => discard(m) }, t('delete')))
        : m.status === 'failed' && m.errorMessage ? h('div', { class: 'msg-error' }, icon('alert', { size: 14 }), h('span', { text: m.errorMessage })) : null);
  }

  /** Whether WhatsApp has the message, so that one can react to it. */
  const sent = (m) => m.direction === 'incoming' || !['pending', 'failed'].includes(m.status);

  // The quick reactions of a message, beside its bubble; the one chosen again takes it back.
  let openMenu = null;
  function closeMenu(refocus) {
    if (!openMenu) return;
    const { menu, button } = openMenu;
    openMenu = null;
    menu.remove();
    button.closest('.msg-row')?.classList.remove('menu-open');
    button.setAttribute('aria-expanded', 'false');
    if (refocus && button.isConnected) button.focus();
  }
  function reactMenu(m, mine, button) {
    const again = openMenu?.button === button;
    closeMenu(false);
    if (again) return;
    const menu = h('div', { class: 'react-menu', role: 'menu', 'aria-label': t('react') },
      ...QUICK_REACTIONS.map((e) => h('button', {
        type: 'button', role: 'menuitemradio', class: 'emoji', 'data-emoji': e, 'aria-checked': String(e === mine),
        'aria-label': EMOJI_NAMES[e] || e, title: EMOJI_NAMES[e] || e,
        onclick: () => {
          closeMenu(true);
          react(m, e === mine ? '' : e);
        },
      }, e)));
    menu.addEventListener('keydown', (e) => {
      const items = [...menu.querySelectorAll('button')];
      const at = items.indexOf(document.activeElement);
      const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 1, ArrowUp: -1 }[e.key];
      if (e.key === 'Escape') {
        e.stopPropagation();
        closeMenu(true);
      } else if (step) {
        e.preventDefault();
        const rtl = document.documentElement.dir === 'rtl' && (e.key === 'ArrowRight' || e.key === 'ArrowLeft');
        items[(at + (rtl ? -step : step) + items.length) % items.length].focus();
      }
    });
    // In the row, not beside the button: it opens along the bubble, inside the screen.
    const row = button.closest('.msg-row');
    row.append(menu);
    row.classList.add('menu-open');
    button.setAttribute('aria-expanded', 'true');
    openMenu = { menu, button };
    (menu.querySelector('[aria-checked=true]') || menu.querySelector('button')).focus();
  }
  document.addEventListener('pointerdown', (e) => {
    if (openMenu && !openMenu.menu.contains(e.target) && e.target !== openMenu.button) closeMenu(false);
  });

  async function react(m, emoji) {
    try {
      const data = await api('POST', `/whatsapp/messages/${encodeURIComponent(m.id)}/reaction`, { json: { emoji } });
      messages.set(data.message.id, data.message);
      render();
    } catch (err) {
      toastError(err);
    }
  }

  /** Shows message `id` in the thread, reading older pages until it is there. */
  async function jumpTo(id) {
    for (let pages = 0; !messages.has(id) && older && pages < 200; pages += 1) {
      await loadOlder({ fill: false });
    }
    if (messages.has(id)) render(false, 0, id);
    const row = rows.get(id);
    if (!row) {
      toast(t('messageNotFound'), 'info');
      return;
    }
    row.scrollIntoView({ block: 'center' });
    row.classList.remove('flash');
    void row.offsetWidth;
    row.classList.add('flash');
    row.querySelector('.bubble')?.setAttribute('tabindex', '-1');
    row.querySelector('.bubble')?.focus({ preventScroll: true });
  }

  // Bubbles by message id and day separators by day: a receipt rebuilds its one bubble. A long
  // history is a window of rows around the one being read (10,000 messages cost the DOM of 150).
  const rows = windowedList(scroller, list, {
    key: (item) => (item.day ? `day:${item.dayStart}` : item.m.id),
    sig: (item) => (item.day ? item.day : `${item.m.status}:${item.m.errorMessage || ''}:${(item.m.reactions || []).map((r) => r.by + r.emoji).join()}`),
    row: (item) => (item.day ? h('div', { class: 'day-sep' }, h('span', { text: item.day })) : bubble(item.m)),
    estimate: (item, average) => (item.day ? 44 : average ?? 52),
  });

  const olderMark = h('div', { class: 'list-more', 'aria-hidden': 'true' }, h('div', { class: 'spinner small' }));

  // Messages that arrive while one reads further up wait below a "new messages" button.
  let unseen = 0;
  const atBottom = () => rows.atEnd && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
  const jump = h('button', { type: 'button', class: 'jump-new', hidden: true, 'data-action': 'jump-new',
    onclick: () => {
      unseen = 0;
      showJump();
      render(true);
    } });
  function showJump() {
    jump.hidden = unseen === 0;
    jump.replaceChildren(h('span', { text: t('newMessages', { n: unseen }) }), icon('back', { size: 14, cls: 'jump-arrow' }));
  }
  scroller.addEventListener('scroll', () => {
    if (unseen && atBottom()) {
      unseen = 0;
      showJump();
    }
  }, { passive: true });

  /** Renders the thread: at its newest message when `toBottom` (or when the reader was
   *  there), around message `around` when given, else where the reader is. */
  function render(toBottom = false, arrived = 0, around = null) {
    const started = performance.now();
    try {
      renderRows(toBottom, arrived, around);
    } finally {
      // The browser's own timing of each render, read by the benchmarks and the tests.
      performance.measure('wasl:thread-render', { start: started });
    }
  }

  function renderRows(toBottom, arrived, around) {
    const nearBottom = atBottom();
    if (arrived && !nearBottom && !toBottom) {
      unseen += arrived;
      showJump();
    }
    olderMark.remove();
    if (messages.size === 0) {
      rows.clear();
      list.replaceChildren(h('div', { class: 'thread-empty' }, h('span', { text: t('noMessages') })));
      return;
    }
    // A separator before each day's first message (the day's name made once per day).
    const items = [];
    let dayStart = null;
    for (const m of [...messages.values()].sort(byTime)) {
      const start = new Date(m.createdAt).setHours(0, 0, 0, 0);
      if (start !== dayStart) {
        dayStart = start;
        items.push({ day: formatDay(m.createdAt), dayStart: start });
      }
      items.push({ m });
    }
    rows.update(items, { at: around ?? (toBottom || nearBottom ? 'end' : null) });
    if (older) scroller.prepend(olderMark);
  }

  // Media that finishes loading grows the thread: stay at the newest message.
  scroller.addEventListener('load', () => {
    if (rows.atEnd && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 400) scroller.scrollTop = scroller.scrollHeight;
  }, true);

  const query = (extra) => ({ sessionName, contact: digitsOf(number), ...extra });

  /** The newest page, merged into what is shown: pages read further up stay. */
  async function refresh() {
    // A number that is not one (a new chat typed wrong) has no history; its failed sends show.
    const data = await api('GET', '/whatsapp/messages', { query: query({ limit: PAGE }) }).catch((err) => {
      if (err.code === 'INVALID_PHONE_NUMBER') return { messages: [], pagination: {} };
      throw err;
    });
    for (const m of data.messages) messages.set(m.id, m);
    const first = !loaded;
    if (first) older = data.pagination.nextCursor || null;
    loaded = true;
    render(first);
    if (first) {
      markLoaded();
      fillUp();
    }
  }

  /** The page before the oldest message shown; the view stays on the message being read. */
  async function loadOlder({ fill = true } = {}) {
    if (!older || loadingOlder) return;
    loadingOlder = true;
    try {
      const data = await api('GET', '/whatsapp/messages', { query: query({ limit: OLDER_PAGE, cursor: older }) });
      for (const m of data.messages) messages.set(m.id, m);
      older = data.pagination.nextCursor || null;
      render();
    } finally {
      loadingOlder = false;
    }
    if (fill) fillUp();
  }

  /** Reads older messages while the view is near the top (or too short to scroll). */
  function fillUp() {
    if (older && !loadingOlder && rows.atStart && scroller.scrollTop < 600) loadOlder().catch(toastError);
  }
  scroller.addEventListener('scroll', fillUp, { passive: true });

  const dropHint = h('div', { class: 'drop-hint', 'aria-hidden': 'true' }, icon('clip', { size: 28 }), h('span', { text: t('dropToAttach') }));
  const el = h('section', { class: 'thread', 'data-session': sessionName, 'data-phone': digitsOf(number) }, head, banner, scroller, jump, form, dropHint, panel, searchPanel);
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      togglePanel(false);
      head.querySelector('[data-action=contact-info]')?.focus();
    }
  });
  // A file dragged over the thread is dropped into the composer (not opened by the browser).
  let dragDepth = 0;
  const carriesFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  el.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    dragDepth += 1;
    el.classList.toggle('dropping', !text.disabled);
  });
  el.addEventListener('dragover', (e) => {
    if (carriesFiles(e)) e.preventDefault();
  });
  el.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) el.classList.remove('dropping');
  });
  el.addEventListener('drop', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    el.classList.remove('dropping');
    attach(e.dataTransfer.files[0]);
  });
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
      const fresh = !messages.has(m.id) && m.direction === 'incoming';
      messages.set(m.id, m);
      render(false, fresh ? 1 : 0);
    }
  });
  setTimeout(() => text.focus(), 0);

  return {
    el,
    get key() {
      return `${sessionName}|${digitsOf(number)}`;
    },
    update(c, status) {
      current = c;
      renderHead(c);
      renderBanner(status, c.contact.isBlocked);
    },
    get conversation() {
      return current;
    },
    refresh: () => refresh().catch(() => {}),
    /** Shows a message of this chat (a search result from the chat list). */
    show: (id) => {
      const go = () => jumpTo(id).catch(toastError);
      if (loaded) go();
      else firstLoad.then(go, () => {});
    },
    destroy() {
      stopRecording(false);
      stop();
      off();
    },
  };
}
