// Contacts: search (the API understands Arabic), and edit name, tags, notes, CRM link, block.
import { t } from '../i18n.js';
import { api } from '../api.js';
import { avatar, debounce, emptyState, formatShort, h, icon, openDialog, phone, spinner, toast, toastError } from '../ui.js';

function chips(tags) {
  return h('span', { class: 'chips' }, (tags || []).map((tag) => h('span', { class: 'chip', dir: 'auto', text: tag })));
}

/** A tag editor: chips with a remove button, and an input that adds on Enter or comma. */
export function tagEditor(initial, { name = 'tag', placeholder = t('addTag') } = {}) {
  const tags = [...(initial || [])];
  const box = h('div', { class: 'tag-editor' });
  const input = h('input', { name, placeholder, 'aria-label': placeholder, autocomplete: 'off' });
  const render = () => box.replaceChildren(
    ...tags.map((tag, i) => h('span', { class: 'chip chip-edit', dir: 'auto' }, tag,
      h('button', { type: 'button', 'aria-label': t('removeTag', { tag }), 'data-action': 'remove-tag', onclick: () => { tags.splice(i, 1); render(); } }, icon('x', { size: 12 })))),
    input);
  const commit = () => {
    for (const part of input.value.split(/[,،]/)) {
      const tag = part.trim();
      // As typed; "vip" beside "VIP" is the same tag (the server matches tags case-insensitively).
      if (tag && !tags.some((x) => x.toLocaleLowerCase() === tag.toLocaleLowerCase())) tags.push(tag);
    }
    input.value = '';
    render();
    input.focus();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ',' || e.key === '،') {
      e.preventDefault();
      commit();
    } else if (e.key === 'Backspace' && !input.value && tags.length) {
      tags.pop();
      render();
      input.focus();
    }
  });
  box.addEventListener('click', (e) => { if (e.target === box) input.focus(); });
  render();
  return { el: box, value: () => { if (input.value.trim()) commit(); return [...tags]; } };
}

/** The contact's most recent conversation, opened in the chat page. */
async function openChat(contact, navigate, close) {
  try {
    const data = await api('GET', '/whatsapp/conversations', { query: { search: contact.phoneNumber, limit: 20 } });
    const mine = data.conversations.find((c) => c.contact.id === contact.id);
    close();
    if (mine) navigate('chat', { params: { conversationId: mine.id } });
    else toast(t('noConversationYet'), 'info');
  } catch (err) {
    toastError(err);
  }
}

export function editDialog(contact, onSaved, navigate) {
  openDialog({
    title: t('editContact'),
    build: (close) => {
      const tags = tagEditor(contact.tags);
      const name = h('input', { name: 'name', dir: 'auto', value: contact.name || '' });
      const notes = h('textarea', { name: 'notes', rows: 3, dir: 'auto' });
      notes.value = contact.notes || '';
      const linked = h('input', { name: 'relatedCustomer', dir: 'ltr', value: contact.relatedCustomer || '' });
      const blocked = h('input', { name: 'isBlocked', type: 'checkbox', checked: contact.isBlocked, role: 'switch' });
      const button = h('button', { type: 'submit', class: 'btn btn-primary' }, t('save'));
      const form = h('form', { id: 'contact-form', class: 'form' },
        h('div', { class: 'contact-id' }, avatar(contact.name, contact.phoneNumber, 'lg'), h('div', {}, h('strong', { dir: 'auto', text: contact.name || t('unnamed') }), h('div', {}, phone(contact.phoneNumber)))),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('name') }), name),
        h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('tags') }), tags.el),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('notes') }), notes),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('relatedCustomer') }), linked),
        contact.optedOut ? h('p', { class: 'opted-out-note', role: 'note' }, h('span', { class: 'badge badge-opted-out' }, t('optedOut')),
          h('span', { class: 'muted', text: t('optedOutSince', { when: formatShort(contact.optedOutAt) }) })) : null,
        h('label', { class: 'switch-field' }, blocked, h('span', { class: 'switch' }, h('i')),
          h('span', {}, h('b', { text: t('blockContact') }), h('small', { class: 'muted', text: t('blockHint') }))),
        h('div', { class: 'dialog-actions' },
          navigate ? h('button', { type: 'button', class: 'btn btn-ghost me-auto', 'data-action': 'open-chat', onclick: () => openChat(contact, navigate, close) }, icon('chat', { size: 16 }), h('span', { text: t('openChat') })) : null,
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')),
          button));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        button.disabled = true;
        try {
          const body = { name: name.value.trim(), tags: tags.value(), notes: notes.value, relatedCustomer: linked.value.trim(), isBlocked: blocked.checked };
          const data = await api('PUT', `/whatsapp/contacts/${encodeURIComponent(contact.id)}`, { json: body });
          toast(t('saved'), 'success');
          close();
          onSaved(data.contact);
        } catch (err) {
          toastError(err);
          button.disabled = false;
        }
      });
      return form;
    },
  });
}

export function mount(root, { navigate } = {}) {
  const state = { contacts: [], search: '', page: 1, pages: 1 };
  const body = h('div', { class: 'contact-list' }, spinner());
  const more = h('button', { type: 'button', class: 'btn btn-ghost load-more', hidden: true, onclick: () => load(state.page + 1) }, t('loadMore'));
  const search = h('input', { type: 'search', class: 'search-input', placeholder: t('searchContacts'), 'aria-label': t('searchContacts') });

  function row(c) {
    return h('div', { class: `contact-row${c.isBlocked ? ' is-blocked' : ''}`, role: 'row', tabindex: 0, 'data-phone': String(c.phoneNumber).replace(/\D/g, ''), 'data-id': c.id,
      onclick: () => editDialog(c, (saved) => { Object.assign(c, saved); render(); }, navigate),
      onkeydown: (e) => { if (e.key === 'Enter') e.currentTarget.click(); } },
    h('span', { class: 'cell cell-name', role: 'cell' }, avatar(c.name, c.phoneNumber),
      h('span', { class: 'who' }, h('b', { dir: 'auto', text: c.name || t('unnamed') }), phone(c.phoneNumber))),
    h('span', { class: 'cell cell-tags', role: 'cell' }, chips(c.tags)),
    h('span', { class: 'cell cell-customer', role: 'cell', dir: 'ltr', text: c.relatedCustomer || '' }),
    h('span', { class: 'cell cell-time', role: 'cell' }, c.isBlocked ? h('span', { class: 'badge badge-blocked' }, icon('block', { size: 14 }), h('span', { text: t('blocked') })) : null,
      c.optedOut ? h('span', { class: 'badge badge-opted-out', 'data-opted-out': '', title: t('optedOutHint') }, t('optedOut')) : null,
      h('time', { text: formatShort(c.lastMessageAt) })),
    h('span', { class: 'cell cell-edit', role: 'cell' }, icon('edit', { size: 16 })));
  }

  function render() {
    if (state.contacts.length === 0) {
      body.replaceChildren(state.search ? emptyState('search', t('noResults'), null) : emptyState('users', t('noContacts'), t('noContactsHint')));
    } else {
      body.replaceChildren(
        h('div', { class: 'contact-row contact-header', role: 'row' },
          h('span', { class: 'cell cell-name', text: t('colName') }), h('span', { class: 'cell cell-tags', text: t('colTags') }),
          h('span', { class: 'cell cell-customer', text: t('colCustomer') }), h('span', { class: 'cell cell-time', text: t('colLastMessage') }), h('span', { class: 'cell cell-edit' })),
        ...state.contacts.map(row));
    }
    more.hidden = state.page >= state.pages;
  }

  async function load(page = 1) {
    try {
      const data = await api('GET', '/whatsapp/contacts', { query: { search: state.search, page, limit: 50 } });
      state.contacts = page === 1 ? data.contacts : [...state.contacts, ...data.contacts];
      state.page = data.pagination?.page || page;
      state.pages = data.pagination?.pages || 1;
      render();
    } catch (err) {
      toastError(err);
      if (page === 1) body.replaceChildren(emptyState('alert', err.message, null));
    }
  }

  search.addEventListener('input', debounce(() => {
    state.search = search.value.trim();
    load(1);
  }, 300));

  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: t('contactsTitle') }), h('p', { class: 'muted', text: t('contactsSubtitle') })),
      h('div', { class: 'search' }, icon('search', { size: 18 }), search)),
    h('div', { class: 'card table-card', role: 'table' }, body),
    more);
  load(1);
  return null;
}
