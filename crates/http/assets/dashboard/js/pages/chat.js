// Chat: conversations ordered by last message with unread counts and search, beside the
// open thread. On a phone the two are separate views with a back button.
import { t } from '../i18n.js';
import { api, live, pollInterval } from '../api.js';
import { avatar, debounce, digitsOf, emptyState, every, formatShort, h, icon, iconButton, openDialog, phone, spinner, toastError } from '../ui.js';
import { createThread, preview, tick } from './thread.js';

const keyOf = (c) => `${c.sessionName}|${digitsOf(c.contact.phoneNumber)}`;

export function mount(root, { navigate }) {
  const state = { conversations: [], sessions: [], filter: '', search: '', loaded: false, thread: null, open: null, marking: false };

  const listEl = h('div', { class: 'conv-list', role: 'list' }, spinner());
  const sessionSelect = h('select', { class: 'session-filter', 'aria-label': t('allSessions') });
  const search = h('input', { type: 'search', class: 'search-input', placeholder: t('searchConversations'), 'aria-label': t('searchConversations') });
  const pane = h('aside', { class: 'conv-pane' },
    h('header', { class: 'conv-head' },
      h('div', { class: 'conv-title' },
        h('h1', { text: t('chatsTitle') }),
        iconButton('edit', t('newChat'), { 'data-action': 'new-chat', onclick: newChat })),
      h('div', { class: 'search' }, icon('search', { size: 18 }), search),
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

  async function markRead(conv) {
    if (!conv.contact.id || state.marking) return;
    state.marking = true;
    try {
      await api('POST', `/whatsapp/conversations/${encodeURIComponent(conv.contact.id)}/read`, { json: { sessionName: conv.sessionName } });
      const c = state.conversations.find((x) => keyOf(x) === keyOf(conv));
      if (c) c.unreadCount = 0;
      renderList();
    } catch (err) {
      toastError(err);
    } finally {
      state.marking = false;
    }
  }

  function open(conv) {
    const key = keyOf(conv);
    if (state.thread?.key !== key) {
      state.thread?.destroy();
      state.thread = createThread(conv, {
        sessionStatus,
        onBack: () => setView('list'),
        onSent: () => loadConversations().catch(() => {}),
      });
      threadPane.replaceChildren(state.thread.el);
    }
    state.open = conv;
    setView('thread');
    renderList();
    if (conv.unreadCount > 0) markRead(conv);
  }

  function item(c) {
    const last = c.lastMessage;
    const out = last?.direction === 'outgoing';
    const active = state.open && keyOf(state.open) === keyOf(c);
    const showSession = !state.filter && state.sessions.length > 1;
    return h('div', {
      class: `conv-item${active ? ' active' : ''}${c.unreadCount > 0 ? ' unread' : ''}`, role: 'listitem', tabindex: 0,
      'data-phone': digitsOf(c.contact.phoneNumber), 'data-session': c.sessionName, 'data-contact-id': c.contact.id || '',
      onclick: () => open(c),
      onkeydown: (e) => { if (e.key === 'Enter') open(c); },
    },
    avatar(c.contact.name, c.contact.phoneNumber),
    h('div', { class: 'conv-main' },
      h('div', { class: 'conv-row' },
        h('span', { class: 'conv-name', dir: 'auto' }, c.contact.name || phone(c.contact.phoneNumber)),
        h('time', { class: 'conv-time', text: formatShort(last?.createdAt || c.contact.lastMessageAt) })),
      h('div', { class: 'conv-row' },
        h('span', { class: 'conv-preview' },
          out ? tick(last.status) : null,
          last && last.type !== 'text' ? icon({ image: 'image', video: 'video', audio: 'mic', document: 'file' }[last.type] || 'file', { size: 14 }) : null,
          h('span', { class: 'conv-text', dir: 'auto', text: preview(last) })),
        showSession ? h('span', { class: 'chip chip-session', dir: 'ltr', text: c.sessionName }) : null,
        c.unreadCount > 0 ? h('span', { class: 'unread-badge', 'aria-label': t('unreadCount', { n: c.unreadCount }), text: String(c.unreadCount) }) : null)));
  }

  let listSignature = '';
  function renderList() {
    if (!state.loaded) return;
    // Polling every few seconds must not rebuild an unchanged list (it would lose hover and focus).
    const sig = JSON.stringify([state.open && keyOf(state.open), state.filter, state.search, state.sessions.length,
      state.conversations.map((c) => [keyOf(c), c.unreadCount, c.contact.name, c.lastMessage?.id, c.lastMessage?.status])]);
    if (sig === listSignature) return;
    listSignature = sig;
    if (state.conversations.length === 0) {
      listEl.replaceChildren(state.search
        ? emptyState('search', t('noResults'), null)
        : emptyState('inbox', t('noConversations'), t('noConversationsHint'),
          h('button', { type: 'button', class: 'btn btn-primary btn-sm', onclick: () => navigate('sessions') }, t('goToSessions'))));
      return;
    }
    listEl.replaceChildren(...state.conversations.map(item));
  }

  async function loadConversations() {
    let data;
    try {
      data = await api('GET', '/whatsapp/conversations', { query: { sessionName: state.filter, search: state.search, limit: 100 } });
    } catch (err) {
      if (!state.loaded) listEl.replaceChildren(emptyState('alert', err.message, null));
      throw err;
    }
    state.conversations = data.conversations;
    state.loaded = true;
    renderList();
    if (state.open) {
      const fresh = state.conversations.find((c) => keyOf(c) === keyOf(state.open));
      if (fresh) {
        state.open = fresh;
        state.thread?.update(fresh, sessionStatus(fresh.sessionName));
        if (fresh.unreadCount > 0 && !document.hidden && layout.dataset.view === 'thread') markRead(fresh);
      }
    }
  }

  async function loadSessions() {
    const data = await api('GET', '/whatsapp/sessions', { query: { limit: 100 } });
    state.sessions = data.sessions;
    const options = [h('option', { value: '', text: t('allSessions') }),
      ...state.sessions.map((s) => h('option', { value: s.sessionName, text: `${s.sessionName} · ${t(`status_${s.status}`)}` }))];
    sessionSelect.replaceChildren(...options);
    sessionSelect.value = state.filter;
    sessionSelect.hidden = state.sessions.length < 2;
    if (state.open) state.thread?.update(state.open, sessionStatus(state.open.sessionName));
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
          open(existing || { sessionName: select.value, unreadCount: 0, lastMessage: null, contact: { id: null, phoneNumber: to.value.trim(), name: null, tags: [], isBlocked: false } });
        });
        setTimeout(() => to.focus(), 0);
        return form;
      },
    });
  }

  search.addEventListener('input', debounce(() => {
    state.search = search.value.trim();
    loadConversations().catch(toastError);
  }, 300));
  sessionSelect.addEventListener('change', () => {
    state.filter = sessionSelect.value;
    loadConversations().catch(toastError);
  });

  let failedOnce = false;
  const stopConversations = every(pollInterval, () => loadConversations().catch((err) => {
    if (!failedOnce) toastError(err);
    failedOnce = true;
  }));
  const stopSessions = every(() => Math.max(pollInterval(), 5000), loadSessions);
  const reload = debounce(() => loadConversations().catch(() => {}), 150);
  const off = live.on((ev) => {
    if (ev.type?.startsWith('message.') || ev.type?.startsWith('contact.')) reload();
    if (ev.type === 'session.status') loadSessions().catch(() => {});
  });

  return () => {
    stopConversations();
    stopSessions();
    off();
    state.thread?.destroy();
    document.body.classList.remove('in-thread');
  };
}
