// Quick replies in the composer: typing `/` opens the organization's and one's own canned
// answers, narrowed by what follows (short codes starting with it first, then the rest that
// contain it, Arabic spellings folded by the server); arrows move, Enter or a click inserts the
// answer (and attaches its file), Escape closes.
import { t } from './i18n.js';
import { api, libraryFile } from './api.js';
import { debounce, h, icon, toastError } from './ui.js';

/** The `/query` the composer holds, when all it holds is one. */
function commandOf(value) {
  const m = /^\/(\S{0,40})$/u.exec(value);
  return m ? m[1] : null;
}

export function quickPicker(textarea, { attach }) {
  const list = h('ul', { class: 'quick-pick', id: 'quick-pick', role: 'listbox', hidden: true, 'aria-label': t('quickRepliesTab') });
  let items = [];
  let active = 0;
  let seq = 0;
  textarea.setAttribute('aria-controls', 'quick-pick');
  textarea.setAttribute('aria-autocomplete', 'list');

  function close() {
    list.hidden = true;
    items = [];
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function draw() {
    if (!items.length) {
      list.replaceChildren(h('li', { class: 'quick-empty muted', text: t('noQuickRepliesFound') }));
      return;
    }
    list.replaceChildren(...items.map((q, i) => h('li', {
      id: `quick-${q.id}`, role: 'option', class: 'quick-option', 'aria-selected': String(i === active), 'data-code': q.shortCode,
      onmousedown: (e) => { e.preventDefault(); pick(q); },
    },
    h('b', { class: 'quick-code', dir: 'auto', text: `/${q.shortCode}` }),
    h('span', { class: 'quick-text', dir: 'auto', text: q.content }),
    q.mediaId ? icon('clip', { size: 14 }) : null)));
    textarea.setAttribute('aria-activedescendant', items[active] ? `quick-${items[active].id}` : '');
  }

  const search = debounce(async (query) => {
    const mine = ++seq;
    try {
      const data = await api('GET', '/whatsapp/quick-replies', { query: { search: query, limit: 8 } });
      if (mine !== seq || commandOf(textarea.value) === null) return;
      items = data.quickReplies;
      active = 0;
      list.hidden = false;
      textarea.setAttribute('aria-expanded', 'true');
      draw();
    } catch (err) {
      toastError(err);
    }
  }, 120);

  async function pick(q) {
    close();
    textarea.value = q.content;
    textarea.dispatchEvent(new Event('input'));
    textarea.focus();
    if (q.mediaId) {
      try {
        const { media } = await api('GET', `/whatsapp/media/${encodeURIComponent(q.mediaId)}`);
        attach(await libraryFile(media));
      } catch (err) {
        toastError(err);
      }
    }
  }

  textarea.addEventListener('input', () => {
    const query = commandOf(textarea.value);
    if (query === null) {
      seq += 1;
      close();
      return;
    }
    search(query);
  });
  // Before the composer's own keys: Enter picks instead of sending while the list is open.
  textarea.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!items.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
      draw();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && items[active] && !e.isComposing) {
      e.preventDefault();
      e.stopImmediatePropagation();
      pick(items[active]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      seq += 1;
      close();
    }
  });
  textarea.addEventListener('blur', () => setTimeout(close, 150));
  return { el: list, close };
}
