// Chat: conversations ordered by last message, with status, unread counts, a status filter and
// search, beside the open thread. Each conversation has its own address
// (`/dashboard/whatsapp/chats/<id>`). On a phone the list and the thread are separate views.
// The list is read a page at a time as it is scrolled (keyset pages: `nextCursor`), and live
// events move rows in place; the first page is read again only now and then, to settle.
import { t } from '../i18n.js';
import { api, live, pollInterval, settleInterval } from '../api.js';
import { avatar, debounce, digitsOf, emptyState, every, fileName, formatShort, h, highlighted, icon, iconButton, openDialog, phone, spinner, toast, toastError, windowedList } from '../ui.js';
import { sessions } from '../state.js';
import { createThread, preview, tick } from './thread.js';

const PAGE = 50;
// `unread` is not a status: it asks for the conversations with unread messages, any status.
const STATUS_FILTERS = [['open', 'filterOpen'], ['unread', 'filterUnread'], ['pending', 'filterPending'], ['resolved', 'filterResolved'], ['', 'filterAll']];

/** Who the conversation is with, on which number: the thread's identity before it has an id. */
const peerOf = (c) => `${c.sessionName}|${digitsOf(c.contact.phoneNumber)}`;

/** The listing's own order: last message first, then id (both descending), so that a page
 *  read later continues exactly where the rows shown end. */
const byRecent = (a, b) => (a.lastMessageAt < b.lastMessageAt ? 1 : a.lastMessageAt > b.lastMessageAt ? -1
  : a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function mount(root, { navigate, params }) {
  const state = {
    conversations: [], sessions: [], session: '', status: 'open', search: '', loaded: false,
    thread: null, open: null, marking: new Set(), wanted: params.conversationId || null,
    // Where the next page starts (null when every row is here); a new filter starts a new
    // generation, and answers for an older one are dropped.
    next: null, toStart: false, loadingMore: false, generation: 0, fetching: new Set(),
  };

  // The rows (a window of them, around the ones in view) scroll in `listEl`.
  const convRows = h('div', { class: 'conv-rows', role: 'list', 'aria-label': t('chatsTitle') }, spinner());
  const listEl = h('div', { class: 'conv-list' }, convRows);
  // Arrow keys walk the conversations, Home and End jump to the ends, Enter opens one.
  listEl.addEventListener('keydown', (e) => {
    if ((e.key === 'Home' || e.key === 'End') && state.conversations.length) {
      e.preventDefault();
      rows.update(state.conversations, { at: e.key === 'Home' ? 'start' : 'end' });
      const ends = convRows.querySelectorAll('.conv-item');
      ends[e.key === 'Home' ? 0 : ends.length - 1]?.focus();
      return;
    }
    const items = [...convRows.querySelectorAll('.conv-item')];
    const at = items.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1 }[e.key];
    if (to === undefined || !items.length) return;
    e.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, at < 0 ? 0 : to))].focus();
  });
  const sessionSelect = h('select', { class: 'session-filter', 'aria-label': t('allSessions') });
  const search = h('input', { type: 'search', class: 'search-input', placeholder: t('searchConversations'), 'aria-label': t('searchConversations') });
  const tabs = h('div', { class: 'status-tabs', role: 'tablist', 'aria-label': t('conversationFilter') },
    STATUS_FILTERS.map(([value, label]) => h('button', {
      type: 'button', role: 'tab', class: 'status-tab', 'data-filter': value || 'all',
      'aria-selected': String(value === state.status),
      onclick: () => setStatusFilter(value),
    }, t(label))));
  const pane = h('aside', { class: 'conv-pane' },
    h('header', { class: 'conv-head' },
      h('div', { class: 'conv-title' },
        h('h1', { text: t('chatsTitle') }),
        iconButton('edit', t('newChat'), { 'data-action': 'new-chat', onclick: newChat })),
      h('div', { class: 'search' }, icon('search', { size: 18 }), search),
      tabs,
      sessionSelect),
    listEl);
  const threadPane = h('section', { class: 'thread-pane' });
  const layout = h('div', { class: 'chat', 'data-view': 'list' }, pane, threadPane);
  root.classList.add('page-chat');
  root.append(layout);

  function showPlaceholder() {
    threadPane.replaceChildren(h('div', { class: 'thread-placeholder' },
      emptyState('message', t('selectConversation'), t('selectConversationHint'))));
  }
  showPlaceholder();

  const sessionStatus = (name) => state.sessions.find((s) => s.sessionName === name)?.status;

  function setView(view) {
    layout.dataset.view = view;
    document.body.classList.toggle('in-thread', view === 'thread');
  }

  function setStatusFilter(value) {
    state.status = value;
    for (const tab of tabs.children) tab.setAttribute('aria-selected', String(tab.dataset.filter === (value || 'all')));
    loadConversations(true).catch(toastError);
  }

  /** Whether a conversation belongs in the list as it is filtered now. */
  const shown = (c) => (!state.status || (state.status === 'unread' ? c.unreadCount > 0 || isOpen(c) : c.status === state.status))
    && (!state.session || c.sessionName === state.session);

  /** Whether a conversation sorts after every row read so far while more pages remain: it
   *  will come with its page, in its place. */
  const beyondLoaded = (c) => state.next && state.conversations.length > 0
    && byRecent(c, state.conversations[state.conversations.length - 1]) > 0;

  function upsert(c) {
    const i = state.conversations.findIndex((x) => x.id === c.id);
    if (i >= 0) state.conversations[i] = c;
    else if (!beyondLoaded(c)) state.conversations.push(c);
    state.conversations = state.conversations.filter(shown);
    state.conversations.sort(byRecent);
    if (state.open && c.id && (state.open.id === c.id || (!state.open.id && peerOf(state.open) === peerOf(c)))) {
      state.open = c;
      state.thread?.update(c, sessionStatus(c.sessionName));
    }
    renderList();
  }

  async function markRead(conv) {
    if (!conv.id || state.marking.has(conv.id)) return;
    state.marking.add(conv.id);
    try {
      await api('POST', `/whatsapp/conversations/${encodeURIComponent(conv.id)}/read`);
      const c = state.conversations.find((x) => x.id === conv.id);
      if (c) c.unreadCount = 0;
      if (state.open?.id === conv.id) state.open.unreadCount = 0;
      renderList();
    } catch (err) {
      toastError(err);
    } finally {
      state.marking.delete(conv.id);
    }
  }

  async function setStatus(conv, status) {
    try {
      const data = await api('PUT', `/whatsapp/conversations/${encodeURIComponent(conv.id)}`, { json: { status } });
      toast(t(status === 'resolved' ? 'conversationResolved' : 'conversationReopened'), 'success');
      upsert(data.conversation);
    } catch (err) {
      toastError(err);
    }
  }

  /** Shows a conversation in the thread pane (without touching the address). */
  function show(conv) {
    const peer = peerOf(conv);
    if (state.thread?.key !== peer) {
      state.thread?.destroy();
      state.thread = createThread(conv, {
        sessionStatus,
        onBack: () => navigate('chat'),
        onSent: () => { if (!live.connected) loadConversations().catch(() => {}); },
        onStatus: (c, status) => setStatus(c, status),
        onReconnect: () => navigate('sessions'),
      });
      threadPane.replaceChildren(state.thread.el);
    } else {
      state.thread.update(conv, sessionStatus(conv.sessionName));
    }
    state.open = conv;
    setView('thread');
    renderList();
    if (conv.unreadCount > 0) markRead(conv);
  }

  /** Opens a conversation: its address becomes the page's, so it can be linked and shared. */
  function open(conv) {
    if (conv.id) navigate('chat', { params: { conversationId: conv.id } });
    else show(conv);
  }

  /** Follows the address: a conversation by id (from the list or the server), or none. */
  async function route(next) {
    const id = next.conversationId || null;
    state.wanted = id;
    if (!id) {
      state.thread?.destroy();
      state.thread = null;
      state.open = null;
      showPlaceholder();
      setView('list');
      renderList();
      return;
    }
    if (state.open?.id === id) {
      setView('thread');
      return;
    }
    const listed = state.conversations.find((c) => c.id === id);
    if (listed) {
      show(listed);
      return;
    }
    try {
      const data = await api('GET', `/whatsapp/conversations/${encodeURIComponent(id)}`);
      if (state.wanted === id) show(data.conversation);
    } catch (err) {
      if (state.wanted !== id) return;
      toast(err.status === 404 ? t('conversationNotFound') : err.message, 'error');
      navigate('chat', { replace: true });
    }
  }

  function item(c) {
    const last = c.lastMessage;
    const out = last?.direction === 'outgoing';
    const active = isOpen(c);
    const showSession = !state.session && state.sessions.length > 1;
    return h('div', {
      class: `conv-item${active ? ' active' : ''}${c.unreadCount > 0 ? ' unread' : ''}`, role: 'listitem', tabindex: 0,
      'data-phone': digitsOf(c.contact.phoneNumber), 'data-session': c.sessionName, 'data-contact-id': c.contact.id || '',
      'data-conversation-id': c.id || '', 'data-status': c.status || 'open',
      onclick: () => open(c),
      onkeydown: (e) => { if (e.key === 'Enter') open(c); },
    },
    avatar(c.contact.name, c.contact.phoneNumber),
    h('div', { class: 'conv-main' },
      h('div', { class: 'conv-row' },
        h('span', { class: 'conv-name', dir: 'auto' }, c.contact.name || phone(c.contact.phoneNumber)),
        h('time', { class: 'conv-time', text: formatShort(last?.createdAt || c.lastMessageAt) })),
      h('div', { class: 'conv-row' },
        h('span', { class: 'conv-preview' },
          out ? tick(last.status) : null,
          last && last.type !== 'text' ? icon({ image: 'image', video: 'video', audio: 'mic', document: 'file' }[last.type] || 'file', { size: 14 }) : null,
          // A file's name reads left to right ("فاتورة-1042.pdf"), like in its bubble.
          last && last.type !== 'text' && !last.content?.caption && last.content?.filename
            ? h('span', { class: 'conv-text' }, fileName(last.content.filename))
            : h('span', { class: 'conv-text', dir: 'auto', text: preview(last) })),
        c.status && c.status !== 'open' ? h('span', { class: `chip chip-status chip-${c.status}`, 'data-status-chip': c.status, text: t(`conv_${c.status}`) }) : null,
        showSession ? h('span', { class: 'chip chip-session', dir: 'ltr', text: c.sessionName }) : null,
        c.unreadCount > 0 ? h('span', { class: 'unread-badge', 'aria-label': t('unreadCount', { n: c.unreadCount }), text: String(c.unreadCount) }) : null)));
  }

  const isOpen = (c) => !!state.open && (state.open.id ? state.open.id === c.id : peerOf(state.open) === peerOf(c));

  // 10,000 conversations cost the DOM of the 150 around the ones in view; a reader at the
  // top stays there as chats that wrote move up.
  const rows = windowedList(listEl, convRows, {
    key: (c) => c.id,
    sig: (c) => JSON.stringify([isOpen(c), c.status, c.unreadCount, c.contact.name, c.lastMessage?.id, c.lastMessage?.status,
      !state.session && state.sessions.length > 1]),
    row: item,
    estimate: (c, average) => average ?? 72,
    pinStart: true,
  });

  const more = h('div', { class: 'list-more', 'aria-hidden': 'true' }, h('div', { class: 'spinner small' }));

  // While searching, the messages that hold the words, below the conversations found.
  const hitsEl = h('section', { class: 'message-hits', 'aria-label': t('searchMessages') });
  let hits = [];
  let hitsRun = 0;
  // Names of the contacts seen in the list, for found messages whose chat the search hides.
  const knownNames = new Map();
  async function searchMessages() {
    const q = state.search;
    const run = ++hitsRun;
    if (!q) {
      hits = [];
      renderList();
      return;
    }
    try {
      const data = await api('GET', '/whatsapp/messages', { query: { q, sessionName: state.session, limit: 20 } });
      if (run !== hitsRun) return;
      hits = data.messages;
    } catch (err) {
      // Words that are not a search (only punctuation) find nothing; anything else is said.
      if (err.code !== 'VALIDATION_ERROR') toastError(err);
      hits = [];
    }
    renderList();
  }
  function renderHits() {
    if (!state.search || !hits.length) {
      hitsEl.remove();
      return;
    }
    hitsEl.replaceChildren(h('h2', { class: 'hits-title', text: t('searchMessages') }),
      ...hits.map((m) => {
        const number = m.direction === 'incoming' ? m.from : m.to;
        const name = knownNames.get(m.contactId);
        return h('button', { type: 'button', class: 'search-hit', 'data-id': m.id, onclick: () => openAt(m).catch(toastError) },
          h('span', { class: 'search-hit-who' }, name ? h('bdi', { text: name }) : phone(number),
            h('time', { datetime: m.createdAt, text: formatShort(m.createdAt) })),
          h('span', { class: 'search-hit-text', dir: 'auto' },
            m.direction === 'outgoing' ? `${t('you')}: ` : null,
            ...(m.type === 'document' && !m.content?.caption ? [fileName(m.content?.filename || '')] : highlighted(preview(m), state.search))));
      }));
    listEl.append(hitsEl);
  }

  /** Opens the chat a found message belongs to, showing that message. */
  async function openAt(m) {
    const number = m.direction === 'incoming' ? m.from : m.to;
    let conv = state.conversations.find((c) => c.sessionName === m.sessionName && c.contact.id === m.contactId);
    if (!conv) {
      const data = await api('GET', '/whatsapp/conversations', { query: { sessionName: m.sessionName, search: digitsOf(number), limit: 5 } });
      conv = data.conversations.find((c) => c.contact.id === m.contactId);
    }
    conv ||= { id: null, sessionName: m.sessionName, status: 'open', unreadCount: 0, lastMessage: null,
      contact: { id: m.contactId, phoneNumber: number, name: null, tags: [], isBlocked: false } };
    show(conv);
    if (conv.id) navigate('chat', { params: { conversationId: conv.id } });
    state.thread?.show(m.id);
  }

  function renderList() {
    if (!state.loaded) return;
    const started = performance.now();
    try {
      renderRows();
    } finally {
      // The browser's own timing of each render, read by the benchmarks and the tests.
      performance.measure('wasl:chat-list-render', { start: started });
    }
  }

  function renderRows() {
    for (const c of state.conversations) if (c.contact.name) knownNames.set(c.contact.id, c.contact.name);
    if (state.conversations.length === 0) {
      rows.clear();
      more.remove();
      // Known sessions, none connected: linking a number is what comes first, whatever the
      // filter (and not while the sessions are still unknown).
      const known = sessions.current;
      const linked = (known || []).some((s) => s.status === 'connected');
      convRows.replaceChildren(known && !linked && !state.search
        ? emptyState('inbox', t('noConversations'), t('noConversationsHint'),
          h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'go-link', onclick: () => navigate('sessions') }, t('goToSessions')))
        : state.search
          ? hits.length ? h('p', { class: 'muted hits-none', text: t('noConversationsFound') }) : emptyState('search', t('noResults'), null)
          : state.status
            ? emptyState('inbox', t('noConversationsInFilter'), null)
            : emptyState('inbox', t('noConversations'), t('noConversationsLinkedHint')));
      renderHits();
      return;
    }
    rows.update(state.conversations, { at: state.toStart ? 'start' : null });
    state.toStart = false;
    if (state.next) listEl.append(more);
    else more.remove();
    renderHits();
  }

  const listQuery = (extra) => ({
    sessionName: state.session, search: state.search, limit: PAGE, ...extra,
    ...(state.status === 'unread' ? { unread: 'true' } : { status: state.status }),
  });

  /** The first page: everything when `reset` (a new filter), else merged into the rows shown
   *  so that pages read further down stay. */
  async function loadConversations(reset = false) {
    const generation = reset ? ++state.generation : state.generation;
    let data;
    try {
      data = await api('GET', '/whatsapp/conversations', { query: listQuery() });
    } catch (err) {
      if (!state.loaded) convRows.replaceChildren(emptyState('alert', err.message, null));
      throw err;
    }
    if (generation !== state.generation) return;
    const fresh = data.conversations;
    const next = data.pagination.nextCursor || null;
    if (reset || !state.loaded || !next) {
      state.conversations = fresh;
      state.next = next;
      if (reset) state.toStart = true;
    } else {
      // Rows the first page lacks but that sort within it have left the filter; rows below
      // it belong to pages already read and stay.
      const ids = new Set(fresh.map((c) => c.id));
      const known = new Set(state.conversations.map((c) => c.id));
      const last = fresh[fresh.length - 1];
      const below = state.conversations.filter((c) => !ids.has(c.id) && byRecent(c, last) > 0);
      state.conversations = [...fresh, ...below];
      // Chats that wrote filled the whole first page (its last row is new here): more of them
      // may sort between it and the rows read further down, so reading goes on from the
      // page's end, each page merged in order.
      if (below.length === 0 || !known.has(last.id)) state.next = next;
    }
    state.loaded = true;
    renderList();
    fillList();
    if (state.open) {
      const fresh = state.conversations.find((c) => (state.open.id ? c.id === state.open.id : peerOf(c) === peerOf(state.open)));
      if (fresh) {
        state.open = fresh;
        state.thread?.update(fresh, sessionStatus(fresh.sessionName));
        if (fresh.unreadCount > 0 && !document.hidden && layout.dataset.view === 'thread') markRead(fresh);
      }
    }
  }

  /** The shared list of sessions changed: the filter's choices and the thread's state. */
  function showSessions(list) {
    state.sessions = list;
    const options = [h('option', { value: '', text: t('allSessions') }),
      ...state.sessions.map((s) => h('option', { value: s.sessionName, text: `${s.sessionName} · ${t(`status_${s.status}`)}` }))];
    sessionSelect.replaceChildren(...options);
    sessionSelect.value = state.session;
    sessionSelect.hidden = state.sessions.length < 2;
    if (state.open) state.thread?.update(state.open, sessionStatus(state.open.sessionName));
    renderList();
  }

  function newChat() {
    openDialog({
      title: t('newChat'),
      build: (close) => {
        const to = h('input', { name: 'to', type: 'tel', dir: 'ltr', required: true, placeholder: '+966…' });
        const select = h('select', { name: 'sessionName', required: true },
          ...state.sessions.map((s) => h('option', { value: s.sessionName, text: `${s.sessionName} · ${t(`status_${s.status}`)}` })));
        const connected = state.sessions.find((s) => s.status === 'connected');
        if (connected) select.value = connected.sessionName;
        const form = h('form', { class: 'form', id: 'new-chat-form' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('newChatTo') }), to),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('needConnectedSession') }), select),
          h('div', { class: 'dialog-actions' },
            h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')),
            h('button', { type: 'submit', class: 'btn btn-primary' }, t('startChat'))));
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          const digits = digitsOf(to.value);
          const existing = state.conversations.find((c) => c.sessionName === select.value && digitsOf(c.contact.phoneNumber) === digits);
          close();
          open(existing || { id: null, sessionName: select.value, status: 'open', unreadCount: 0, lastMessage: null, contact: { id: null, phoneNumber: to.value.trim(), name: null, tags: [], isBlocked: false } });
        });
        setTimeout(() => to.focus(), 0);
        return form;
      },
    });
  }

  /** The page after the last row shown. */
  async function loadMore() {
    if (!state.next || state.loadingMore) return;
    state.loadingMore = true;
    const generation = state.generation;
    try {
      const data = await api('GET', '/whatsapp/conversations', { query: listQuery({ cursor: state.next }) });
      if (generation !== state.generation) return;
      const known = new Set(state.conversations.map((c) => c.id));
      const added = data.conversations.filter((c) => !known.has(c.id) && shown(c));
      state.conversations = [...state.conversations, ...added].sort(byRecent);
      state.next = data.pagination.nextCursor || null;
      renderList();
    } finally {
      state.loadingMore = false;
    }
    fillList();
  }

  /** Reads further while the list is near its end (or too short to scroll at all). */
  function fillList() {
    if (state.next && !state.loadingMore && listEl.scrollTop + listEl.clientHeight > listEl.scrollHeight - 600) {
      loadMore().catch(toastError);
    }
  }
  listEl.addEventListener('scroll', fillList, { passive: true });

  search.addEventListener('input', debounce(() => {
    state.search = search.value.trim();
    hits = [];
    loadConversations(true).catch(toastError);
    searchMessages();
  }, 300));
  sessionSelect.addEventListener('change', () => {
    state.session = sessionSelect.value;
    loadConversations(true).catch(toastError);
  });

  /** A conversation not among the rows read wrote again: read just its row. */
  async function fetchRow(m) {
    const peer = `${m.sessionName}|${m.contactId}`;
    if (state.fetching.has(peer) || state.search) return;
    state.fetching.add(peer);
    try {
      const number = digitsOf(m.direction === 'incoming' ? m.from : m.to);
      const data = await api('GET', '/whatsapp/conversations', { query: { sessionName: m.sessionName, search: number, status: state.status, limit: 5 } });
      const c = data.conversations.find((x) => x.contact.id === m.contactId);
      if (c && shown(c)) upsert(c);
    } finally {
      state.fetching.delete(peer);
    }
  }

  /** A message event moves its conversation's row (last message, unread) in place. */
  function onMessage(m) {
    const c = state.conversations.find((x) => x.sessionName === m.sessionName && x.contact.id === m.contactId);
    if (!c) {
      if (state.loaded && m.type !== 'reaction') fetchRow(m).catch(() => {});
      return;
    }
    const newer = !c.lastMessage || c.lastMessage.id === m.id || c.lastMessage.createdAt <= m.createdAt;
    if (!newer) return;
    const counts = m.direction === 'incoming' && c.lastMessage?.id !== m.id && !isOpen(c);
    upsert({ ...c, lastMessage: m, lastMessageAt: m.createdAt, unreadCount: c.unreadCount + (counts ? 1 : 0) });
  }

  /** A contact changed (name, tags, blocked): its rows show it at once. */
  function onContact(contact) {
    let changed = false;
    for (const c of state.conversations) {
      if (c.contact.id === contact.id) {
        c.contact = contact;
        changed = true;
        if (isOpen(c)) {
          state.open = c;
          state.thread?.update(c, sessionStatus(c.sessionName));
        }
      }
    }
    if (changed) renderList();
  }

  let failedOnce = false;
  const stopConversations = every(settleInterval, () => loadConversations().catch((err) => {
    if (!failedOnce) toastError(err);
    failedOnce = true;
  }));
  const offSessions = sessions.subscribe(showSessions);
  const stopSessions = every(() => Math.max(pollInterval(), 5000), () => sessions.refresh());
  const reload = debounce(() => loadConversations().catch(() => {}), 400);
  const off = live.on((ev) => {
    if (ev.type === 'conversation.created' || ev.type === 'conversation.updated') {
      if (ev.data?.id && !state.search) upsert(ev.data);
      else reload();
    } else if (ev.type?.startsWith('message.')) {
      if (ev.data) onMessage(ev.data);
    } else if (ev.type?.startsWith('contact.')) {
      if (ev.data?.id) onContact(ev.data);
      else reload();
    }
  });
  const offReconnect = live.onReconnect(() => loadConversations().catch(() => {}));
  if (state.wanted) route({ conversationId: state.wanted });

  return {
    route,
    unmount() {
      stopConversations();
      stopSessions();
      offSessions();
      off();
      offReconnect();
      state.thread?.destroy();
      document.body.classList.remove('in-thread');
    },
  };
}
