// Quick replies: canned answers an agent inserts in the composer by typing `/` and their short
// code. The organization's are written by owners and admins and seen by everyone; a personal
// one is its writer's alone. A quick reply may carry a file of the media library.
import { t } from '../i18n.js';
import { api } from '../api.js';
import { mediaField } from '../automation_kit.js';
import { clearFieldErrors, confirmDialog, debounce, emptyState, h, icon, openDialog, showFieldErrors, spinner, toast, toastError } from '../ui.js';

function quickDialog(quick, canManage, onSaved) {
  const q = quick || { shortCode: '', content: '', visibility: canManage ? 'organization' : 'personal', mediaId: null };
  openDialog({
    title: quick ? t('editQuickReply') : t('newQuickReply'),
    build: (close) => {
      const shortCode = h('input', { name: 'shortCode', dir: 'auto', required: true, maxlength: 33, value: q.shortCode, placeholder: t('shortCodePlaceholder') });
      const content = h('textarea', { name: 'content', rows: 5, dir: 'auto', maxlength: 4096 });
      content.value = q.content;
      const visibility = (value, label, hint) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'visibility', value, checked: q.visibility === value, disabled: value === 'organization' && !canManage }),
        h('span', { class: 'choice-body' }, h('span', { class: 'choice-title', text: label }), h('small', { text: hint })));
      const media = mediaField({ name: 'quick-media', mediaId: q.mediaId });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('save'));
      const form = h('form', { class: 'form', id: 'quick-reply-form', novalidate: true },
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('shortCode') }), shortCode,
          h('small', { class: 'field-hint', text: t('shortCodeHint') }), h('small', { class: 'field-error', 'data-error-for': 'shortCode' })),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('quickReplyText') }), content, h('small', { class: 'field-error', 'data-error-for': 'content' })),
        h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('file') }), media.el, h('small', { class: 'field-error', 'data-error-for': 'mediaId' })),
        h('fieldset', { class: 'field' }, h('legend', { class: 'field-label', text: t('visibility') }),
          h('div', { class: 'choices' },
            visibility('organization', t('visibility_organization'), t('visibilityOrganizationHint')),
            visibility('personal', t('visibility_personal'), t('visibilityPersonalHint')))),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        save.disabled = true;
        const body = {
          shortCode: shortCode.value.trim(),
          content: content.value,
          mediaId: media.value(),
          visibility: form.querySelector('input[name=visibility]:checked')?.value || 'personal',
        };
        try {
          const data = quick
            ? await api('PUT', `/whatsapp/quick-replies/${encodeURIComponent(quick.id)}`, { json: body })
            : await api('POST', '/whatsapp/quick-replies', { json: body });
          toast(t('saved'), 'success');
          close();
          onSaved(data.quickReply);
        } catch (err) {
          if (err.code === 'SHORT_CODE_TAKEN') {
            form.querySelector('[data-error-for=shortCode]').textContent = err.message;
            shortCode.focus();
          } else if (!showFieldErrors(form, err)) {
            toastError(err);
          }
          save.disabled = false;
        }
      });
      return form;
    },
  });
}

export function mount(root, { canManage, me }) {
  const list = h('div', { class: 'quick-list card table-card', id: 'quick-list' }, spinner());
  const search = h('input', { type: 'search', class: 'search-input', placeholder: t('searchQuickReplies'), 'aria-label': t('searchQuickReplies') });
  const add = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-quick-reply' }, icon('plus', { size: 16 }), h('span', { text: t('newQuickReply') }));
  root.append(
    h('div', { class: 'section-head' }, h('div', { class: 'search' }, icon('search', { size: 18 }), search), add),
    h('p', { class: 'muted', text: t('quickRepliesHint') }),
    list);
  let items = [];
  let alive = true;
  const mine = (q) => q.visibility === 'personal' && q.ownerId === me?.user?.id;
  const writable = (q) => (q.visibility === 'organization' ? canManage : mine(q));
  const draw = () => {
    if (!items.length) {
      list.replaceChildren(search.value.trim() ? emptyState('search', t('noResults'), null) : emptyState('reply', t('noQuickReplies'), t('noQuickRepliesHint')));
      return;
    }
    list.replaceChildren(...items.map((q) => h('div', { class: 'quick-row', 'data-code': q.shortCode, 'data-id': q.id },
      h('span', { class: 'quick-code', dir: 'auto' }, `/${q.shortCode}`),
      h('span', { class: 'quick-text', dir: 'auto', text: q.content }),
      h('span', { class: 'quick-meta' },
        q.mediaId ? h('span', { class: 'chip chip-session', title: t('hasFile') }, icon('clip', { size: 12 })) : null,
        h('span', { class: `badge visibility-${q.visibility}`, text: t(`visibility_${q.visibility}`) }),
        writable(q) ? h('button', { type: 'button', class: 'icon-btn', 'data-action': 'edit-quick-reply', title: t('edit'), 'aria-label': t('edit'),
          onclick: () => quickDialog(q, canManage, load) }, icon('edit', { size: 16 })) : null,
        writable(q) ? h('button', { type: 'button', class: 'icon-btn', 'data-action': 'delete-quick-reply', title: t('delete'), 'aria-label': t('delete'),
          onclick: async () => {
            if (!(await confirmDialog({ title: t('deleteQuickReply'), text: `/${q.shortCode}`, action: t('delete'), danger: true }))) return;
            try {
              await api('DELETE', `/whatsapp/quick-replies/${encodeURIComponent(q.id)}`);
              load();
            } catch (err) {
              toastError(err);
            }
          } }, icon('x', { size: 16 })) : null))));
  };
  async function load() {
    try {
      const data = await api('GET', '/whatsapp/quick-replies', { query: { search: search.value.trim(), limit: 100 } });
      if (!alive) return;
      items = data.quickReplies;
      draw();
    } catch (err) {
      toastError(err);
      list.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  search.addEventListener('input', debounce(load, 250));
  add.addEventListener('click', () => quickDialog(null, canManage, load));
  load();
  return () => { alive = false; };
}
