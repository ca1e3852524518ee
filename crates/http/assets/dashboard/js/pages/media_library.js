// The media library: files uploaded once and sent by templates, quick replies and
// auto-replies. Images show as thumbnails; a file something still sends cannot be deleted,
// and the page says what sends it.
import { t } from '../i18n.js';
import { api, libraryUrl } from '../api.js';
import { mediaLabel, uploadToLibrary } from '../automation_kit.js';
import { confirmDialog, emptyState, formatShort, h, icon, spinner, toast, toastError } from '../ui.js';

function tile(item, { canDelete, onDelete }) {
  const thumb = h('div', { class: 'media-thumb', 'data-kind': item.type },
    icon(item.type === 'image' ? 'image' : item.type === 'video' ? 'video' : item.type === 'audio' ? 'mic' : 'file', { size: 28 }));
  if (item.type === 'image') {
    libraryUrl(item.id).then((url) => thumb.replaceChildren(h('img', { src: url, alt: item.filename || '' }))).catch(() => {});
  }
  return h('figure', { class: 'card media-tile', 'data-media': item.id },
    thumb,
    h('figcaption', {},
      mediaLabel(item),
      h('small', { class: 'muted', text: formatShort(item.createdAt) }),
      canDelete ? h('button', { type: 'button', class: 'icon-btn', 'data-action': 'delete-media', title: t('delete'), 'aria-label': t('delete'),
        onclick: () => onDelete(item) }, icon('x', { size: 16 })) : null));
}

export function mount(root, { canManage, me }) {
  const grid = h('div', { class: 'media-grid', id: 'media-grid' }, spinner());
  const input = h('input', { type: 'file', class: 'visually-hidden', tabindex: -1, id: 'media-upload' });
  const upload = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'upload-media', onclick: () => input.click() },
    icon('clip', { size: 16 }), h('span', { text: t('uploadFile') }));
  root.append(
    h('div', { class: 'section-head' }, h('p', { class: 'muted', text: t('mediaHint') }), upload, input),
    grid);
  let items = [];
  let alive = true;
  const mayDelete = (item) => canManage || item.createdBy === me?.user?.id;

  const draw = () => {
    grid.replaceChildren(...(items.length
      ? items.map((item) => tile(item, { canDelete: mayDelete(item), onDelete: remove }))
      : [emptyState('image', t('noMedia'), t('noMediaHint'))]));
  };
  async function load() {
    try {
      const data = await api('GET', '/whatsapp/media', { query: { limit: 100 } });
      if (!alive) return;
      items = data.media;
      draw();
    } catch (err) {
      toastError(err);
      grid.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  async function remove(item) {
    if (!(await confirmDialog({ title: t('deleteMedia'), text: item.filename || t(`type_${item.type}`), action: t('delete'), danger: true }))) return;
    try {
      await api('DELETE', `/whatsapp/media/${encodeURIComponent(item.id)}`);
      load();
    } catch (err) {
      if (err.code === 'MEDIA_IN_USE') toast(t('mediaInUse', { users: (err.details?.usedBy || []).join('، ') }), 'error');
      else toastError(err);
    }
  }
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    upload.disabled = true;
    try {
      await uploadToLibrary(file);
      toast(t('mediaUploaded'), 'success');
      load();
    } catch (err) {
      toastError(err);
    } finally {
      upload.disabled = false;
    }
  });
  load();
  return () => { alive = false; };
}
