// What the automation pages share: a template's text rendered as WhatsApp shows it (the same
// rules the server applies for web and sandbox sessions: header in bold, body, footer in
// italics, link and call lines, numbered quick replies), the variables of a text, a field that
// picks or uploads a file of the media library, and the editor of an automation's reply.
import { t } from './i18n.js';
import { api, libraryUrl, MAX_MEDIA_BYTES } from './api.js';
import { bdi, fileName, formatBytes, h, icon, toastError } from './ui.js';

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\|([^}]*))?\}\}/g;

/** The variables of `texts` in order of first appearance, with the default written after `|`. */
export function variablesOf(...texts) {
  const found = [];
  for (const text of texts) {
    for (const m of String(text || '').matchAll(VARIABLE)) {
      const known = found.find((v) => v.name === m[1]);
      if (!known) found.push({ name: m[1], default: m[2]?.trim() || null });
      else if (!known.default && m[2]) known.default = m[2].trim();
    }
  }
  return found;
}

/** Pieces of `text`: strings, and `{name, value}` for each variable with what fills it (the
 *  value given, else the default; `null` when nothing does). */
function pieces(text, values) {
  const out = [];
  let last = 0;
  for (const m of String(text || '').matchAll(VARIABLE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const given = values?.[m[1]];
    out.push({ name: m[1], value: given?.trim() ? given : (m[2]?.trim() || null) });
    last = m.index + m[0].length;
  }
  if (last < String(text || '').length) out.push(text.slice(last));
  return out;
}

/** Text with its variables filled: a variable nothing fills shows as a marked `{{name}}`. */
function filled(text, values) {
  return pieces(text, values).map((p) => (typeof p === 'string' ? p
    : p.value !== null ? h('span', { class: 'var-filled', text: p.value })
      : h('span', { class: 'var-open', dir: 'ltr', text: `{{${p.name}}}` })));
}

/**
 * A template as the customer's phone shows it on a web or sandbox session, in a chat bubble:
 * `tpl` has header ({type, text?, mediaId?}), content, footer and buttons.
 */
export function templateBubble(tpl, values = {}) {
  const header = tpl.header;
  const links = (tpl.buttons || []).filter((b) => b.type !== 'quick_reply');
  const choices = (tpl.buttons || []).filter((b) => b.type === 'quick_reply');
  let media = null;
  if (header && header.type !== 'text') {
    media = h('div', { class: 'preview-media', 'data-kind': header.type }, icon(header.type === 'document' ? 'file' : header.type === 'video' ? 'video' : 'image', { size: 28 }));
    if (header.mediaId && header.type === 'image') {
      libraryUrl(header.mediaId).then((url) => media.replaceChildren(h('img', { src: url, alt: '' }))).catch(() => {});
    }
  }
  return h('div', { class: 'msg-row out preview-row' },
    h('div', { class: 'bubble template-bubble', 'data-direction': 'outgoing', dir: 'auto' },
      media,
      header?.type === 'text' && header.text ? h('p', { class: 'tpl-header' }, filled(header.text, values)) : null,
      h('p', { class: 'msg-text tpl-body' }, tpl.content ? filled(tpl.content, values) : h('span', { class: 'muted', text: t('templateBodyEmpty') })),
      tpl.footer ? h('p', { class: 'tpl-footer', text: tpl.footer }) : null,
      links.length ? h('ul', { class: 'tpl-links' }, links.map((b) => h('li', {},
        icon(b.type === 'call' ? 'phone' : 'link', { size: 14 }), h('span', { text: `${b.text}: ` }),
        h('bdi', { dir: 'ltr', text: b.type === 'call' ? b.phone || '' : b.url || '' })))) : null,
      choices.length ? h('ol', { class: 'tpl-choices' }, choices.map((b) => h('li', { text: b.text }))) : null));
}

/** Uploads a file to the media library; its record. Refuses one over 16 MB at once. */
export async function uploadToLibrary(file) {
  if (file.size > MAX_MEDIA_BYTES) throw new Error(t('fileTooLarge'));
  const form = new FormData();
  form.append('file', file, file.name);
  const data = await api('POST', '/whatsapp/media', { form });
  return data.media;
}

/** The kind of a file of the media library, to show it. */
export function mediaLabel(item) {
  if (!item) return null;
  return h('span', { class: 'media-label' },
    icon(item.type === 'image' ? 'image' : item.type === 'video' ? 'video' : item.type === 'audio' ? 'mic' : 'file', { size: 16 }),
    h('span', { dir: 'auto', title: item.filename || null }, item.filename ? fileName(item.filename) : t(`type_${item.type}`)),
    item.size ? h('small', { class: 'muted' }, h('span', { class: 'sep', text: ' · ' }), bdi(formatBytes(item.size))) : null);
}

/**
 * A field that holds a file of the media library: shows the one chosen (`mediaId`), uploads
 * another (`accept` limits the picker), or removes it. `onChange(item | null)`.
 */
export function mediaField({ name, mediaId = null, accept = '', disabled = false, onChange = () => {} }) {
  let current = mediaId ? { id: mediaId } : null;
  const input = h('input', { type: 'file', class: 'visually-hidden', tabindex: -1, accept, 'data-media-input': name });
  const shown = h('span', { class: 'media-current' });
  const upload = h('button', { type: 'button', class: 'btn btn-sm', 'data-action': `upload-${name}`, disabled, onclick: () => input.click() },
    icon('clip', { size: 14 }), h('span', { text: t('uploadFile') }));
  const remove = h('button', { type: 'button', class: 'icon-btn', 'data-action': `remove-${name}`, title: t('removeFile'), 'aria-label': t('removeFile'), disabled,
    onclick: () => set(null) }, icon('x', { size: 16 }));
  const el = h('div', { class: 'media-field', 'data-media-field': name }, shown, upload, remove, input);
  /** Shows `item`; `changed` when the person chose it (not when the page showed what was). */
  function set(item, changed = true) {
    current = item;
    el.dataset.mediaId = item?.id || '';
    shown.replaceChildren(item ? (item.type ? mediaLabel(item) : h('span', { dir: 'ltr', class: 'muted', text: item.id })) : h('span', { class: 'muted', text: t('noFile') }));
    remove.hidden = !item;
    if (changed) onChange(item);
  }
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    upload.classList.add('busy');
    upload.disabled = true;
    try {
      set(await uploadToLibrary(file));
    } catch (err) {
      toastError(err);
    } finally {
      upload.classList.remove('busy');
      upload.disabled = disabled;
    }
  });
  // What the id names, when the page only had the id.
  if (mediaId) {
    api('GET', `/whatsapp/media/${encodeURIComponent(mediaId)}`).then((d) => { if (current?.id === mediaId) set(d.media, false); }).catch(() => {});
  }
  set(current, false);
  return { el, value: () => current?.id || null };
}

/**
 * The editor of what an automation answers with: text (contact fields and defaults filled for
 * each customer), one of the organization's templates, or a file with a caption. `prefix`
 * names its fields (`response`, `awayResponse`), so the API's errors find them.
 */
export function replyEditor({ prefix, reply, templates, disabled = false }) {
  const r = reply || { type: 'text' };
  const type = h('select', { name: `${prefix}.type`, disabled, 'aria-label': t('replyType') },
    ['text', 'template', 'media'].map((v) => h('option', { value: v, text: t(`reply_${v}`), selected: r.type === v })));
  const text = h('textarea', { name: `${prefix}.text`, rows: 3, dir: 'auto', maxlength: 4096, disabled, placeholder: t('replyTextPlaceholder') });
  text.value = r.type === 'text' || r.type === 'media' ? r.text || '' : '';
  const template = h('select', { name: `${prefix}.template`, disabled },
    h('option', { value: '', text: t('chooseTemplate') }),
    [...new Map(templates.map((tpl) => [tpl.name, tpl])).values()].map((tpl) => h('option', { value: tpl.name, text: tpl.name, selected: r.template === tpl.name })));
  const variablesBox = h('div', { class: 'reply-variables' });
  const values = { ...(r.variables || {}) };
  const media = mediaField({ name: `${prefix}-media`, mediaId: r.mediaId || null, disabled });
  const textField = h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('replyText') }), text,
    h('small', { class: 'field-hint', text: t('replyTextHint') }));
  const templateField = h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('template') }), template, variablesBox);
  const mediaFieldBox = h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('file') }), media.el);
  function drawVariables() {
    const chosen = templates.filter((tpl) => tpl.name === template.value);
    const vars = chosen.length ? chosen[0].variables.filter((v) => v.source === 'sender') : [];
    variablesBox.replaceChildren(...vars.map((v) => {
      const input = h('input', { name: `${prefix}.variables.${v.name}`, dir: 'auto', value: values[v.name] || '', placeholder: v.default || '', disabled,
        oninput: () => { values[v.name] = input.value; } });
      return h('label', { class: 'field field-inline' }, h('span', { class: 'field-label', dir: 'ltr', text: `{{${v.name}}}` }), input);
    }));
  }
  function show() {
    textField.hidden = type.value === 'template';
    textField.querySelector('.field-label').textContent = type.value === 'media' ? t('caption') : t('replyText');
    templateField.hidden = type.value !== 'template';
    mediaFieldBox.hidden = type.value !== 'media';
  }
  type.addEventListener('change', show);
  template.addEventListener('change', drawVariables);
  drawVariables();
  show();
  const el = h('div', { class: 'reply-editor', 'data-reply': prefix },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('replyType') }), type),
    textField, templateField, mediaFieldBox,
    h('small', { class: 'field-error', 'data-error-for': prefix }));
  return {
    el,
    value() {
      if (type.value === 'template') {
        const variables = Object.fromEntries(Object.entries(values).filter(([, v]) => v && v.trim()));
        return { type: 'template', template: template.value, variables };
      }
      if (type.value === 'media') return { type: 'media', mediaId: media.value(), text: text.value.trim() || undefined };
      return { type: 'text', text: text.value };
    },
  };
}

/** A reply as one line for a rule's summary. */
export function replySummary(reply) {
  if (!reply) return '';
  if (reply.type === 'template') return t('replyTemplateSummary', { name: reply.template });
  if (reply.type === 'media') return reply.text ? t('replyMediaCaptionSummary', { caption: reply.text }) : t('replyMediaSummary');
  return reply.text;
}
