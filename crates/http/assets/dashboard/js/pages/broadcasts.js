// Broadcasts: one message to many customers, sent at a pace that protects the number. The
// list shows each broadcast with its progress; the builder writes a draft (audience by tags
// or a list of numbers with a live count, the message with a preview, a time, the pace); a
// broadcast's page shows its progress live (a bar, counters, when it should finish), starts,
// pauses, resumes and cancels it, and lists its recipients by status.
import { t } from '../i18n.js';
import { api, live } from '../api.js';
import { sessions as sharedSessions } from '../state.js';
import { replyEditor, replySummary } from '../automation_kit.js';
import { bdi, clearFieldErrors, confirmDialog, debounce, emptyState, every, formatDateTime, formatNumber, h, icon, openDialog, phone, showFieldErrors, spinner, toast, toastError } from '../ui.js';

const RECIPIENT_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed', 'skipped', 'cancelled'];

/** The message as the API takes it: a file's caption is its `caption`. */
function messageOf(reply) {
  if (reply.type === 'media') return { type: 'media', mediaId: reply.mediaId, caption: reply.text };
  return reply;
}

function replyOf(message) {
  if (message?.type === 'media') return { ...message, text: message.caption };
  return message;
}

const tagsOf = (text) => text.split(/[,،\n]/).map((x) => x.trim()).filter(Boolean);

/** Recipients past the outbox out of those to send to. */
function fraction(b) {
  const target = Math.max(0, b.total - b.skipped - b.cancelled);
  const done = b.sent + b.delivered + b.read + b.failed;
  return { done, target, ratio: target ? done / target : 0 };
}

function progressBar(b) {
  const f = fraction(b);
  const fill = h('span', { class: 'progress-fill' });
  // Through the style object: the page's policy refuses inline style attributes.
  fill.style.inlineSize = `${Math.round(f.ratio * 100)}%`;
  return h('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': f.target, 'aria-valuenow': f.done, 'aria-label': t('broadcastProgress') }, fill);
}

function builder(draft, templates, onSaved) {
  const d = draft || { name: '', sessionName: 'default', recipients: { type: 'filter', filters: { tags: [], excludeTags: [] } }, message: { type: 'text', text: '' }, schedule: null, pacing: { perMinute: null, jitterPercent: 40 } };
  openDialog({
    title: draft ? t('editBroadcast') : t('newBroadcast'),
    cls: 'dialog-wide',
    build: (close) => {
      const name = h('input', { name: 'name', dir: 'auto', required: true, maxlength: 100, value: d.name });
      const sessionOptions = (sharedSessions.current || []).map((s) => s.sessionName);
      // A new broadcast goes from `default`, else the first session; a draft keeps its own.
      const chosen = draft ? d.sessionName : (sessionOptions.includes('default') ? 'default' : sessionOptions[0] || 'default');
      if (!sessionOptions.includes(chosen)) sessionOptions.unshift(chosen);
      const session = h('select', { name: 'sessionName' }, sessionOptions.map((s) => h('option', { value: s, text: s, selected: s === chosen })));
      const kind = (value) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'recipients.type', value, checked: d.recipients.type === value }),
        h('span', { class: 'choice-body' }, h('span', { class: 'choice-title', text: t(`audience_${value}`) }), h('small', { text: t(`audience_${value}Hint`) })));
      const f = d.recipients.filters || {};
      const tags = h('input', { name: 'recipients.filters.tags', dir: 'auto', value: (f.tags || []).join('، '), placeholder: 'VIP، الرياض' });
      const mode = h('select', { name: 'recipients.filters.tagsMode' },
        ['any', 'all'].map((m) => h('option', { value: m, text: t(`tagsMode_${m}`), selected: (f.tagsMode || 'any') === m })));
      const exclude = h('input', { name: 'recipients.filters.excludeTags', dir: 'auto', value: (f.excludeTags || []).join('، ') });
      const before = h('input', { type: 'date', name: 'recipients.filters.lastMessageBefore', dir: 'ltr', value: (f.lastMessageBefore || '').slice(0, 10) });
      const after = h('input', { type: 'date', name: 'recipients.filters.lastMessageAfter', dir: 'ltr', value: (f.lastMessageAfter || '').slice(0, 10) });
      const phones = h('textarea', { name: 'recipients.phones', rows: 5, dir: 'ltr', placeholder: '+966501234567\n+966551234567' });
      phones.value = (d.recipients.phones || []).join('\n');
      const filterBox = h('div', { class: 'audience-filter' },
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('audienceTags') }), tags, h('small', { class: 'field-hint', text: t('audienceTagsHint') })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('audienceTagsMode') }), mode)),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('audienceExclude') }), exclude),
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('audienceBefore') }), before),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('audienceAfter') }), after)),
        h('small', { class: 'field-error', 'data-error-for': 'recipients.filters.tags' }));
      const listBox = h('label', { class: 'field audience-list' }, h('span', { class: 'field-label', text: t('audiencePhones') }), phones,
        h('small', { class: 'field-hint', text: t('audiencePhonesHint') }), h('small', { class: 'field-error', 'data-error-for': 'recipients.phones' }));
      const count = h('output', { class: 'audience-count', id: 'audience-count', 'aria-live': 'polite' });
      const recipients = () => {
        const type = form.querySelector('input[name="recipients.type"]:checked')?.value || 'filter';
        if (type === 'list') return { type, phones: phones.value.split(/[\n,،]/).map((p) => p.trim()).filter(Boolean) };
        const iso = (v, end) => (v ? new Date(`${v}T${end ? '23:59:59' : '00:00:00'}`).toISOString() : undefined);
        return { type, filters: { tags: tagsOf(tags.value), tagsMode: mode.value, excludeTags: tagsOf(exclude.value), lastMessageBefore: iso(before.value, false), lastMessageAfter: iso(after.value, true) } };
      };
      const recount = debounce(async () => {
        const r = recipients();
        filterBox.hidden = r.type !== 'filter';
        listBox.hidden = r.type !== 'list';
        if (r.type === 'list' && !r.phones.length) {
          count.textContent = t('audienceCount', { n: 0 });
          count.dataset.count = '0';
          return;
        }
        try {
          const data = await api('POST', '/whatsapp/broadcasts/audience', { json: { recipients: r } });
          count.textContent = t('audienceCount', { n: formatNumber(data.count) });
          count.dataset.count = String(data.count);
        } catch (err) {
          count.textContent = err.message;
          delete count.dataset.count;
        }
      }, 300);
      const message = replyEditor({ prefix: 'message', reply: replyOf(d.message), templates });
      const bubble = h('div', { class: 'bubble out broadcast-preview', dir: 'auto' });
      const showBubble = () => {
        const m = message.value();
        bubble.textContent = m.type === 'template' ? replySummary(m) : (m.text || '…');
      };
      message.el.addEventListener('input', showBubble);
      message.el.addEventListener('change', showBubble);
      const later = h('input', { type: 'checkbox', name: 'useSchedule', checked: !!d.schedule });
      const sendAt = h('input', { type: 'datetime-local', name: 'schedule.sendAt', dir: 'ltr', value: d.schedule ? d.schedule.sendAt.slice(0, 16) : '' });
      const showLater = () => { sendAt.disabled = !later.checked; };
      later.addEventListener('change', showLater);
      const pace = h('select', { name: 'pacing' },
        h('option', { value: 'safe', text: t('pacingSafe'), selected: d.pacing.perMinute == null }),
        h('option', { value: 'rate', text: t('pacingRate'), selected: d.pacing.perMinute > 0 }),
        h('option', { value: 'off', text: t('pacingOff'), selected: d.pacing.perMinute === 0 }));
      const perMinute = h('input', { type: 'number', name: 'pacing.perMinute', min: 1, max: 6000, dir: 'ltr', value: String(d.pacing.perMinute || 4) });
      const showPace = () => { perMinute.hidden = pace.value !== 'rate'; };
      pace.addEventListener('change', showPace);
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('saveDraft'));
      const form = h('form', { class: 'form', id: 'broadcast-form', novalidate: true },
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('broadcastName') }), name, h('small', { class: 'field-error', 'data-error-for': 'name' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('session') }), session, h('small', { class: 'field-error', 'data-error-for': 'sessionName' }))),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('audience') }),
          h('div', { class: 'choices' }, kind('filter'), kind('list')), filterBox, listBox, count,
          h('small', { class: 'field-error', 'data-error-for': 'recipients.type' })),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('scheduledMessage') }),
          h('div', { class: 'editor-with-preview' }, message.el, h('div', { class: 'preview-pane' }, h('small', { class: 'muted', text: t('preview') }), bubble))),
        h('div', { class: 'form-row' },
          h('div', { class: 'field' }, h('label', { class: 'check-line' }, later, h('span', { text: t('sendLater') })), sendAt,
            h('small', { class: 'field-hint', text: t('scheduledAtHint') }), h('small', { class: 'field-error', 'data-error-for': 'schedule.sendAt' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('pacing') }), pace, perMinute,
            h('small', { class: 'field-hint', text: t('pacingHint') }), h('small', { class: 'field-error', 'data-error-for': 'pacing.perMinute' }))),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), save));
      for (const el of [tags, mode, exclude, before, after, phones]) el.addEventListener('input', recount);
      for (const el of form.querySelectorAll('input[name="recipients.type"]')) el.addEventListener('change', recount);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        save.disabled = true;
        const pacing = pace.value === 'safe' ? { perMinute: null, jitterPercent: 40 }
          : pace.value === 'off' ? { perMinute: 0, jitterPercent: 0 } : { perMinute: Number(perMinute.value) || 1, jitterPercent: 40 };
        const body = {
          name: name.value.trim(), sessionName: session.value, recipients: recipients(), message: messageOf(message.value()), pacing,
          schedule: later.checked && sendAt.value ? { sendAt: sendAt.value } : null,
        };
        try {
          const data = draft
            ? await api('PUT', `/whatsapp/broadcasts/${encodeURIComponent(draft.id)}`, { json: body })
            : await api('POST', '/whatsapp/broadcasts', { json: { ...body, schedule: body.schedule || undefined } });
          toast(t('saved'), 'success');
          close();
          onSaved(data.broadcast);
        } catch (err) {
          if (err.code === 'TEMPLATE_VARIABLE_MISSING') {
            form.querySelector('[data-error-for=message]').textContent = `${err.message}: ${(err.details?.missing || []).join(', ')}`;
          } else if (!showFieldErrors(form, err)) {
            toastError(err);
          }
          save.disabled = false;
        }
      });
      showLater();
      showPace();
      showBubble();
      queueMicrotask(recount);
      return form;
    },
  });
}

function counters(b) {
  const cell = (key, value) => h('div', { class: `counter counter-${key}`, 'data-counter': key },
    h('b', { dir: 'ltr', text: formatNumber(value) }), h('span', { text: t(`broadcastCount_${key}`) }));
  return h('div', { class: 'counters' }, cell('total', b.total), cell('queued', b.queued), cell('sent', b.sent), cell('delivered', b.delivered),
    cell('read', b.read), cell('failed', b.failed), cell('skipped', b.skipped));
}

function card(b, open) {
  return h('article', { class: `card broadcast-card status-${b.status}`, 'data-broadcast': b.id, 'data-name': b.name },
    h('header', { class: 'rule-head' },
      h('div', { class: 'rule-title' }, h('h3', { dir: 'auto' }, h('a', { href: `#${b.id}`, onclick: (e) => { e.preventDefault(); open(b); }, text: b.name })),
        h('span', { class: `badge broadcast-${b.status}`, text: t(`broadcast_${b.status}`) }),
        h('span', { class: 'chip chip-session', dir: 'ltr', text: b.sessionName }))),
    b.total ? progressBar(b) : null,
    h('p', { class: 'muted broadcast-line', text: b.total ? t('broadcastLine', { done: formatNumber(fraction(b).done), target: formatNumber(fraction(b).target) }) : replySummary(replyOf(b.message)) }));
}

/** A broadcast's own view: progress, actions, preview, recipients. */
function detail(root, b0, { templates, back }) {
  let b = b0;
  const head = h('div', { class: 'page-head broadcast-head' });
  const body = h('div', { class: 'broadcast-body' });
  const previewBox = h('section', { class: 'card broadcast-preview-card', id: 'broadcast-preview' });
  const status = h('select', { name: 'recipientStatus', 'aria-label': t('status') }, h('option', { value: '', text: t('allStatuses') }),
    RECIPIENT_STATUSES.map((s) => h('option', { value: s, text: t(`recipient_${s}`) })));
  const table = h('div', { class: 'card table-card', id: 'broadcast-recipients' }, spinner());
  root.replaceChildren(head, body,
    h('div', { class: 'broadcast-columns' }, previewBox,
      h('section', { class: 'recipients-section' }, h('div', { class: 'section-head' }, h('h3', { text: t('recipients') }), status), table)));
  const act = async (action) => {
    if (action === 'cancel' && !(await confirmDialog({ title: t('cancelBroadcast'), text: b.name, action: t('cancelBroadcast'), danger: true }))) return;
    if (action === 'delete' && !(await confirmDialog({ title: t('deleteBroadcast'), text: b.name, action: t('delete'), danger: true }))) return;
    try {
      if (action === 'delete') {
        await api('DELETE', `/whatsapp/broadcasts/${encodeURIComponent(b.id)}`);
        back();
        return;
      }
      const data = await api('POST', `/whatsapp/broadcasts/${encodeURIComponent(b.id)}/${action}`, { json: {} });
      b = data.broadcast;
      draw();
      loadRecipients();
    } catch (err) {
      toastError(err);
    }
  };
  const button = (action, label, cls = 'btn-ghost') => h('button', { type: 'button', class: `btn btn-sm ${cls}`, 'data-action': `${action}-broadcast`, onclick: () => act(action) }, t(label));
  function draw() {
    const actions = [];
    if (b.status === 'draft') actions.push(h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'edit-broadcast', onclick: () => builder(b, templates, (x) => { b = { ...b, ...x }; draw(); loadPreview(); }) }, icon('edit', { size: 14 }), h('span', { text: t('edit') })));
    if (b.status === 'draft') actions.push(button('start', b.schedule ? 'startAtTime' : 'startNow', 'btn-primary'));
    if (b.status === 'running' || b.status === 'scheduled') actions.push(button('pause', 'pause'));
    if (b.status === 'paused') actions.push(button('resume', 'resume', 'btn-primary'));
    if (!['completed', 'cancelled', 'draft'].includes(b.status)) actions.push(button('cancel', 'cancelBroadcast', 'btn-danger-ghost'));
    if (['completed', 'cancelled', 'draft'].includes(b.status)) actions.push(button('delete', 'delete', 'btn-danger-ghost'));
    head.replaceChildren(
      h('div', {},
        h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'back-to-broadcasts', onclick: back }, icon('back', { size: 14 }), h('span', { text: t('allBroadcasts') })),
        h('h1', { dir: 'auto', text: b.name }),
        h('p', { class: 'muted' }, h('span', { class: `badge broadcast-${b.status}`, 'data-status': b.status, text: t(`broadcast_${b.status}`) }), ' ',
          b.waitingReason ? h('span', { class: 'reason-inline', text: t(`waiting_${b.waitingReason}`) }) : null)),
      h('div', { class: 'card-actions' }, actions));
    const f = fraction(b);
    body.replaceChildren(h('section', { class: 'card broadcast-progress', id: 'broadcast-progress', 'data-done': String(f.done), 'data-target': String(f.target) },
      progressBar(b),
      h('p', { class: 'broadcast-line' }, t('broadcastLine', { done: formatNumber(f.done), target: formatNumber(f.target) }),
        b.estimatedFinishAt ? h('span', { class: 'muted', text: ` · ${t('estimatedFinish', { at: formatDateTime(b.estimatedFinishAt) })}` }) : null,
        b.schedule && b.status === 'scheduled' ? h('span', { class: 'muted', text: ` · ${t('startsAt', { at: formatDateTime(b.schedule.sendAt) })}` }) : null),
      counters(b)));
  }
  async function loadPreview() {
    try {
      const p = await api('GET', `/whatsapp/broadcasts/${encodeURIComponent(b.id)}/preview`);
      previewBox.replaceChildren(h('h3', { text: t('preview') }), h('p', { class: 'muted', 'data-count': String(p.count), text: t('audienceCount', { n: formatNumber(p.count) }) }),
        ...p.messages.map((m) => h('div', { class: 'preview-message' }, h('small', { class: 'muted' }, bdi(phone(m.to), { dir: 'ltr' })), h('div', { class: 'bubble out', dir: 'auto', text: m.text || '' }))));
    } catch (err) {
      previewBox.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  async function loadRecipients() {
    try {
      const data = await api('GET', `/whatsapp/broadcasts/${encodeURIComponent(b.id)}/recipients`, { query: { status: status.value, limit: 50 } });
      if (!data.recipients.length) {
        table.replaceChildren(emptyState('users', b.total ? t('noResults') : t('noRecipientsYet'), b.total ? null : t('noRecipientsYetHint')));
        return;
      }
      const more = data.pagination.total > data.recipients.length
        ? h('p', { class: 'muted table-more', text: t('firstOf', { n: data.recipients.length, total: formatNumber(data.pagination.total) }) })
        : '';
      table.replaceChildren(h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: t('phone') }), h('th', { text: t('status') }))),
        h('tbody', {}, data.recipients.map((r) => h('tr', { 'data-phone': r.phone, 'data-status': r.status },
          h('td', { dir: 'ltr', text: String(r.number) }),
          h('td', {}, bdi(phone(r.phone), { dir: 'ltr' })),
          h('td', {}, h('span', { class: `badge recipient-${r.status}`, text: t(`recipient_${r.status}`) }),
            r.reason ? h('small', { class: 'muted', text: ` ${t(`skipReason_${r.reason}`)}` }) : null))))),
      more);
    } catch (err) {
      table.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  async function refresh() {
    const data = await api('GET', `/whatsapp/broadcasts/${encodeURIComponent(b.id)}`);
    const moved = data.broadcast.status !== b.status || data.broadcast.queued !== b.queued;
    b = data.broadcast;
    draw();
    if (moved) loadRecipients();
  }
  status.addEventListener('change', loadRecipients);
  draw();
  loadPreview();
  loadRecipients();
  const off = live.on((ev) => {
    if ((ev.type === 'broadcast.progress' || ev.type === 'broadcast.completed') && ev.data?.id === b.id) refresh().catch(() => {});
  });
  // The socket says when it moves; a slow poll covers receipts after it ended and a lost socket.
  const stop = every(() => (['running', 'scheduled'].includes(b.status) ? 2000 : 10000), refresh);
  return () => { off(); stop(); };
}

export function mount(root, context) {
  const canManage = ['owner', 'admin'].includes(context.me?.user?.role) || !context.me?.user;
  let templates = [];
  let unmountDetail = null;
  const list = h('div', { class: 'broadcast-list', id: 'broadcast-list' }, spinner());
  const add = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-broadcast', disabled: !canManage }, icon('plus', { size: 16 }), h('span', { text: t('newBroadcast') }));
  const listView = h('div', {},
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: t('broadcastsTitle') }), h('p', { class: 'muted', text: t('broadcastsSubtitle') })), add),
    canManage ? null : h('p', { class: 'reason', text: t('broadcastsManagersOnly') }),
    list);
  const detailView = h('div', { class: 'broadcast-detail' });
  root.append(listView, detailView);
  const open = (b) => context.navigate('broadcasts', { params: { id: b.id } });
  const back = () => context.navigate('broadcasts');
  async function load() {
    try {
      const data = await api('GET', '/whatsapp/broadcasts', { query: { limit: 100 } });
      list.replaceChildren(...(data.broadcasts.length ? data.broadcasts.map((b) => card(b, open)) : [emptyState('send', t('noBroadcasts'), t('noBroadcastsHint'))]));
    } catch (err) {
      list.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  async function show(params) {
    if (typeof unmountDetail === 'function') unmountDetail();
    unmountDetail = null;
    if (params?.id) {
      listView.hidden = true;
      detailView.hidden = false;
      detailView.replaceChildren(spinner());
      try {
        const data = await api('GET', `/whatsapp/broadcasts/${encodeURIComponent(params.id)}`);
        unmountDetail = detail(detailView, data.broadcast, { templates, back });
      } catch (err) {
        detailView.replaceChildren(emptyState('alert', err.message, null));
      }
    } else {
      listView.hidden = false;
      detailView.hidden = true;
      load();
    }
  }
  add.addEventListener('click', () => builder(null, templates, open));
  api('GET', '/whatsapp/templates', { query: { limit: 100 } }).then((d) => { templates = d.templates; }).catch(() => {});
  sharedSessions.refresh().catch(() => {});
  show(context.params);
  return {
    route: (params) => show(params),
    unmount: () => { if (typeof unmountDetail === 'function') unmountDetail(); },
  };
}
