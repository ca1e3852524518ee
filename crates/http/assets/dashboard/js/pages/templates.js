// Templates: the organization's messages with {{variables}}, written beside a live preview of
// the chat bubble a customer gets (header in bold, body, footer, link and call lines, numbered
// quick replies), checked by the server against Meta's limits, and sent to a customer with
// their variables filled.
import { t } from '../i18n.js';
import { api } from '../api.js';
import { sessions as sharedSessions } from '../state.js';
import { mediaField, templateBubble, variablesOf } from '../automation_kit.js';
import { clearFieldErrors, confirmDialog, debounce, emptyState, h, icon, openDialog, showFieldErrors, spinner, toast, toastError } from '../ui.js';

const CATEGORIES = ['utility', 'marketing', 'authentication'];
const HEADER_TYPES = ['none', 'text', 'image', 'video', 'document'];
const BUTTON_TYPES = ['quick_reply', 'url', 'call'];

/** Sample values for the preview: what the sender would give is shown as given here. */
function previewValues(values, lang) {
  return { 'contact.name': lang === 'en' ? 'Ahmed' : 'أحمد', 'contact.phone': '+966551112233', ...values };
}

function buttonRow(button, onRemove, onChange) {
  const type = h('select', { name: 'buttons.type', 'aria-label': t('buttonType') },
    BUTTON_TYPES.map((b) => h('option', { value: b, text: t(`button_${b}`), selected: button.type === b })));
  const text = h('input', { name: 'buttons.text', dir: 'auto', maxlength: 25, value: button.text || '', placeholder: t('buttonText'), 'aria-label': t('buttonText') });
  const target = h('input', { name: 'buttons.target', dir: 'ltr', value: button.url || button.phone || '', 'aria-label': t('buttonTarget') });
  const sync = () => {
    target.hidden = type.value === 'quick_reply';
    target.placeholder = type.value === 'call' ? '+966 55 111 2233' : 'https://';
    button.type = type.value;
    button.text = text.value;
    button.url = type.value === 'url' ? target.value.trim() : undefined;
    button.phone = type.value === 'call' ? target.value.trim() : undefined;
    onChange();
  };
  for (const el of [type, text, target]) el.addEventListener('input', sync);
  sync();
  return h('div', { class: 'button-row' }, type, text, target,
    h('button', { type: 'button', class: 'icon-btn', 'data-action': 'remove-button', title: t('removeButton'), 'aria-label': t('removeButton'), onclick: onRemove }, icon('x', { size: 16 })));
}

/** The template editor, with the preview beside it; `onSaved(template)`. */
function templateDialog(template, defaultLanguage, onSaved) {
  const tp = template || { name: '', category: 'utility', language: defaultLanguage, header: null, content: '', footer: '', buttons: [] };
  openDialog({
    title: template ? t('editTemplate') : t('newTemplate'),
    cls: 'dialog-wide',
    build: (close) => {
      const name = h('input', { name: 'name', dir: 'ltr', required: true, maxlength: 512, value: tp.name, placeholder: 'order_ready', pattern: '[a-z0-9_]+' });
      const category = h('select', { name: 'category' }, CATEGORIES.map((c) => h('option', { value: c, text: t(`category_${c}`), selected: tp.category === c })));
      const language = h('input', { name: 'language', dir: 'ltr', maxlength: 10, value: tp.language, list: 'template-languages' });
      const languages = h('datalist', { id: 'template-languages' }, ['ar', 'en', 'en_US', 'fr', 'ur'].map((l) => h('option', { value: l })));
      const headerType = h('select', { name: 'header.type' }, HEADER_TYPES.map((x) => h('option', { value: x, text: t(`header_${x}`), selected: (tp.header?.type || 'none') === x })));
      const headerText = h('input', { name: 'header.text', dir: 'auto', maxlength: 60, value: tp.header?.text || '' });
      let headerMedia = tp.header?.mediaId || null;
      const media = mediaField({ name: 'header-media', mediaId: headerMedia, onChange: (item) => { headerMedia = item?.id || null; redraw(); } });
      const content = h('textarea', { name: 'content', rows: 5, dir: 'auto', maxlength: 1024, placeholder: t('templateBodyPlaceholder') });
      content.value = tp.content;
      const footer = h('input', { name: 'footer', dir: 'auto', maxlength: 60, value: tp.footer || '' });
      const buttons = (tp.buttons || []).map((b) => ({ ...b }));
      const buttonList = h('div', { class: 'button-list' });
      const addButton = h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'add-button', onclick: () => { buttons.push({ type: 'quick_reply', text: '' }); drawButtons(); redraw(); } },
        icon('plus', { size: 14 }), h('span', { text: t('addButton') }));
      const counter = h('small', { class: 'field-hint', dir: 'ltr' });
      const variablesBox = h('div', { class: 'preview-variables' });
      const sample = {};
      const preview = h('div', { class: 'template-preview', id: 'template-preview', 'aria-live': 'polite' });
      const headerTextField = h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('headerText') }), headerText, h('small', { class: 'field-error', 'data-error-for': 'header.text' }));
      const headerMediaField = h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('file') }), media.el, h('small', { class: 'field-error', 'data-error-for': 'header.mediaId' }));

      function draft() {
        const type = headerType.value;
        return {
          name: name.value.trim(),
          category: category.value,
          language: language.value.trim() || undefined,
          header: type === 'none' ? null : type === 'text' ? { type, text: headerText.value } : { type, mediaId: headerMedia || undefined },
          content: content.value,
          footer: footer.value.trim() || null,
          buttons: buttons.map((b) => ({ type: b.type, text: b.text, url: b.url || undefined, phone: b.phone || undefined })),
        };
      }
      function drawButtons() {
        buttonList.replaceChildren(...buttons.map((b, i) => buttonRow(b, () => { buttons.splice(i, 1); drawButtons(); redraw(); }, redraw)));
      }
      function redraw() {
        const d = draft();
        headerTextField.hidden = headerType.value !== 'text';
        headerMediaField.hidden = ['none', 'text'].includes(headerType.value);
        counter.textContent = `${[...content.value].length}/1024`;
        const vars = variablesOf(d.header?.text, d.content).filter((v) => !v.name.startsWith('contact.'));
        variablesBox.replaceChildren(...(vars.length ? [h('span', { class: 'field-label', text: t('previewValues') })] : []),
          ...vars.map((v) => {
            const input = h('input', { name: `sample.${v.name}`, dir: 'auto', value: sample[v.name] || '', placeholder: v.default || v.name,
              'aria-label': v.name, oninput: () => { sample[v.name] = input.value; preview.replaceChildren(templateBubble(draft(), previewValues(sample, language.value))); } });
            return h('label', { class: 'field field-inline' }, h('span', { class: 'field-label', dir: 'ltr', text: `{{${v.name}}}` }), input);
          }));
        preview.replaceChildren(templateBubble(d, previewValues(sample, language.value)));
      }
      for (const el of [name, category, language, headerType, headerText, content, footer]) el.addEventListener('input', redraw);
      drawButtons();

      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('save'));
      const form = h('form', { class: 'form template-form', id: 'template-form', novalidate: true },
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('templateName') }), name,
            h('small', { class: 'field-hint', text: t('templateNameHint') }), h('small', { class: 'field-error', 'data-error-for': 'name' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('category') }), category, h('small', { class: 'field-hint', text: t('categoryHint') })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('templateLanguage') }), language, languages, h('small', { class: 'field-error', 'data-error-for': 'language' }))),
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('header') }), headerType),
          headerTextField, headerMediaField),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('templateBody') }), content, counter,
          h('small', { class: 'field-hint', text: t('templateBodyHint') }), h('small', { class: 'field-error', 'data-error-for': 'content' })),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('footer') }), footer, h('small', { class: 'field-error', 'data-error-for': 'footer' })),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('buttons') }),
          h('small', { class: 'field-hint', text: t('buttonsHint') }), buttonList, addButton, h('small', { class: 'field-error', 'data-error-for': 'buttons' })),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        save.disabled = true;
        try {
          const data = template
            ? await api('PUT', `/whatsapp/templates/${encodeURIComponent(template.id)}`, { json: draft() })
            : await api('POST', '/whatsapp/templates', { json: draft() });
          toast(t('saved'), 'success');
          close();
          onSaved(data.template);
        } catch (err) {
          if (!showFieldErrors(form, err)) toastError(err);
          save.disabled = false;
        }
      });
      redraw();
      return h('div', { class: 'editor-with-preview' }, form,
        h('aside', { class: 'preview-pane', 'aria-label': t('preview') },
          h('h3', { text: t('preview') }), h('div', { class: 'preview-chat' }, preview), variablesBox,
          h('p', { class: 'field-hint', text: t('previewHint') })));
    },
  });
}

/** Sends a template to a customer, asking the values of its variables. */
function sendDialog(template) {
  openDialog({
    title: t('sendTemplateTitle', { name: template.name }),
    build: (close) => {
      const to = h('input', { name: 'to', dir: 'ltr', inputmode: 'tel', required: true, placeholder: '+966 55 111 2233' });
      // From a connected session, the first one by default.
      const known = [...(sharedSessions.current || [])].sort((a, b) => Number(b.status === 'connected') - Number(a.status === 'connected'));
      const session = h('select', { name: 'sessionName' }, known.map((s) => h('option', { value: s.sessionName, text: s.phoneNumber ? `${s.sessionName} (+${s.phoneNumber})` : s.sessionName })));
      const inputs = template.variables.filter((v) => v.source === 'sender').map((v) => ({
        v, input: h('input', { name: `variables.${v.name}`, dir: 'auto', placeholder: v.default || '' }),
      }));
      const error = h('p', { class: 'field-error', role: 'alert', 'data-error-for': 'variables' });
      const send = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('send', { size: 16 }), h('span', { text: t('send') }));
      const form = h('form', { class: 'form', id: 'send-template-form', novalidate: true },
        templateBubble(template, previewValues({}, template.language)),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('sendTo') }), to, h('small', { class: 'field-error', 'data-error-for': 'to' })),
        known.length > 1 ? h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('session') }), session) : null,
        ...inputs.map(({ v, input }) => h('label', { class: 'field' }, h('span', { class: 'field-label', dir: 'ltr', text: `{{${v.name}}}` }), input)),
        error,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), send));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        send.disabled = true;
        const variables = Object.fromEntries(inputs.filter(({ input }) => input.value.trim()).map(({ v, input }) => [v.name, input.value.trim()]));
        try {
          await api('POST', '/whatsapp/messages/send-template', { json: {
            to: to.value.trim(), template: template.name, language: template.language, variables, sessionName: session.value || undefined,
          } });
          toast(t('messageAccepted'), 'success');
          close();
        } catch (err) {
          if (err.code === 'TEMPLATE_VARIABLE_MISSING') error.textContent = t('variablesMissing', { names: (err.details?.missing || []).join(', ') });
          else if (!showFieldErrors(form, err)) toastError(err);
          send.disabled = false;
        }
      });
      return form;
    },
  });
}

function templateCard(tp, { canManage, onEdit, onDelete }) {
  return h('article', { class: 'card template-card', 'data-template': tp.id, 'data-name': tp.name },
    h('header', { class: 'rule-head' },
      h('div', { class: 'rule-title' },
        h('h3', { dir: 'ltr', text: tp.name }),
        h('span', { class: `badge category-${tp.category}`, text: t(`category_${tp.category}`) }),
        h('span', { class: 'chip chip-session', dir: 'ltr', text: tp.language }))),
    h('p', { class: 'template-snippet', dir: 'auto', text: tp.content }),
    tp.variables.length ? h('div', { class: 'chips' }, tp.variables.map((v) => h('span', { class: `chip${v.source === 'contact' ? ' chip-session' : ''}`, dir: 'ltr', text: `{{${v.name}}}` }))) : null,
    h('footer', { class: 'card-actions' },
      h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-action': 'send-template', onclick: () => sendDialog(tp) }, icon('send', { size: 14 }), h('span', { text: t('send') })),
      canManage ? h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'edit-template', onclick: () => onEdit(tp) }, icon('edit', { size: 14 }), h('span', { text: t('edit') })) : null,
      canManage ? h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'data-action': 'delete-template', onclick: () => onDelete(tp) }, t('delete')) : null));
}

export function mount(root, { canManage, me }) {
  const list = h('div', { class: 'template-list', id: 'template-list' }, spinner());
  const search = h('input', { type: 'search', class: 'search-input', placeholder: t('searchTemplates'), 'aria-label': t('searchTemplates') });
  const newTemplate = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-template', hidden: !canManage },
    icon('plus', { size: 16 }), h('span', { text: t('newTemplate') }));
  root.append(
    h('div', { class: 'section-head' }, h('div', { class: 'search' }, icon('search', { size: 18 }), search), newTemplate),
    list);
  let templates = [];
  let alive = true;
  const language = me?.organization?.defaultLanguage || 'ar';
  const draw = () => {
    if (!templates.length) {
      list.replaceChildren(search.value.trim() ? emptyState('search', t('noResults'), null) : emptyState('message', t('noTemplates'), t('noTemplatesHint')));
      return;
    }
    list.replaceChildren(...templates.map((tp) => templateCard(tp, {
      canManage,
      onEdit: (x) => templateDialog(x, language, load),
      onDelete: async (x) => {
        if (!(await confirmDialog({ title: t('deleteTemplate'), text: t('deleteTemplateText', { name: x.name }), action: t('delete'), danger: true }))) return;
        try {
          await api('DELETE', `/whatsapp/templates/${encodeURIComponent(x.id)}`);
          load();
        } catch (err) {
          toastError(err);
        }
      },
    })));
  };
  async function load() {
    try {
      const data = await api('GET', '/whatsapp/templates', { query: { search: search.value.trim(), limit: 100 } });
      if (!alive) return;
      templates = data.templates;
      draw();
    } catch (err) {
      toastError(err);
      list.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  search.addEventListener('input', debounce(load, 300));
  newTemplate.addEventListener('click', () => templateDialog(null, language, load));
  sharedSessions.refresh().catch(() => {});
  load();
  return () => { alive = false; };
}
