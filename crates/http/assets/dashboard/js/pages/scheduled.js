// Scheduled messages: a message to one customer at a local time of the organization, once or
// repeated daily, weekly or monthly. A list with each schedule said in a sentence (when, how
// often, what, when next), paused, resumed, cancelled and its history of occurrences; and a
// month's calendar of what is coming (a list of days on a phone).
import { locale, t } from '../i18n.js';
import { api } from '../api.js';
import { sessions as sharedSessions } from '../state.js';
import { replyEditor, replySummary } from '../automation_kit.js';
import { bdi, clearFieldErrors, confirmDialog, emptyState, formatDateTime, h, icon, openDialog, phone, showFieldErrors, spinner, toast, toastError } from '../ui.js';

const STATUSES = ['active', 'paused', 'completed', 'cancelled'];

/** The message as the API takes it: a file's caption is its `caption`. */
function messageOf(reply) {
  if (reply.type === 'media') return { type: 'media', mediaId: reply.mediaId, caption: reply.text };
  return reply;
}

/** The message as the reply editor shows it. */
function replyOf(message) {
  if (message?.type === 'media') return { ...message, text: message.caption };
  return message;
}

/** "Every 2 weeks, 5 times" — how a schedule repeats, in words. */
function repeatPhrase(s) {
  const r = s.repeat;
  if (!r) return t('repeatOnce');
  const n = r.interval || 1;
  const every = n === 1 ? t(`repeat_${r.frequency}`) : t(`repeatEvery_${r.frequency}`, { n });
  const ends = [];
  if (r.count) ends.push(t('repeatCount', { n: r.count }));
  if (r.until) ends.push(t('repeatUntil', { date: r.until.slice(0, 10) }));
  return [every, ...ends].join(' · ');
}

/** A local time of the organization (`2027-03-15T09:00`) for people. */
function localPhrase(local) {
  const [date, time] = local.split('T');
  const [y, m, d] = date.split('-').map(Number);
  const day = new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(Date.UTC(y, m - 1, d)));
  return `${day} ${time.slice(0, 5)}`;
}

function scheduleDialog(schedule, templates, onSaved) {
  const s = schedule || { to: '', message: { type: 'text', text: '' }, scheduleAt: '', repeat: null, isActive: true };
  openDialog({
    title: schedule ? t('editScheduled') : t('newScheduled'),
    cls: 'dialog-wide',
    build: (close) => {
      const to = h('input', { name: 'to', dir: 'ltr', inputmode: 'tel', required: true, value: s.to || '', placeholder: '+9665…' });
      // Sent from `default` when it is not said; a new one from `default`, else the first session.
      const names = (sharedSessions.current || []).map((x) => x.sessionName);
      const chosen = s.sessionName || (schedule || names.includes('default') ? 'default' : names[0] || 'default');
      if (!names.includes(chosen)) names.unshift(chosen);
      const session = h('select', { name: 'sessionName' },
        names.map((n) => h('option', { value: n, text: n, selected: n === chosen })));
      const message = replyEditor({ prefix: 'message', reply: replyOf(s.message), templates });
      const at = h('input', { type: 'datetime-local', name: 'scheduleAt', required: true, value: (s.scheduleAt || '').slice(0, 16), dir: 'ltr' });
      const frequency = h('select', { name: 'repeat.frequency' },
        h('option', { value: '', text: t('repeatOnce'), selected: !s.repeat }),
        ['daily', 'weekly', 'monthly'].map((f) => h('option', { value: f, text: t(`repeat_${f}`), selected: s.repeat?.frequency === f })));
      const interval = h('input', { type: 'number', name: 'repeat.interval', min: 1, max: 365, value: String(s.repeat?.interval || 1), dir: 'ltr' });
      const endKind = h('select', { name: 'repeatEnd' },
        h('option', { value: 'never', text: t('repeatNever'), selected: !s.repeat?.until && !s.repeat?.count }),
        h('option', { value: 'until', text: t('repeatEndsOn'), selected: !!s.repeat?.until }),
        h('option', { value: 'count', text: t('repeatEndsAfter'), selected: !s.repeat?.until && !!s.repeat?.count }));
      const until = h('input', { type: 'date', name: 'repeat.until', value: (s.repeat?.until || '').slice(0, 10), dir: 'ltr' });
      const count = h('input', { type: 'number', name: 'repeat.count', min: 1, max: 10000, value: String(s.repeat?.count || 5), dir: 'ltr' });
      const repeatBox = h('div', { class: 'form-row form-row-3 repeat-box' },
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('repeatInterval') }), interval, h('small', { class: 'field-error', 'data-error-for': 'repeat.interval' })),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('repeatEnds') }), endKind),
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('repeatEndValue') }), until, count,
          h('small', { class: 'field-error', 'data-error-for': 'repeat.until' }), h('small', { class: 'field-error', 'data-error-for': 'repeat.count' })));
      const showRepeat = () => {
        repeatBox.hidden = !frequency.value;
        until.hidden = endKind.value !== 'until';
        count.hidden = endKind.value !== 'count';
        repeatBox.querySelector('.field:last-child').hidden = endKind.value === 'never';
      };
      frequency.addEventListener('change', showRepeat);
      endKind.addEventListener('change', showRepeat);
      showRepeat();
      const active = h('input', { type: 'checkbox', role: 'switch', name: 'isActive', checked: s.status ? s.status === 'active' : s.isActive !== false });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('save'));
      const form = h('form', { class: 'form', id: 'scheduled-form', novalidate: true },
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('scheduledTo') }), to, h('small', { class: 'field-error', 'data-error-for': 'to' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('session') }), session, h('small', { class: 'field-error', 'data-error-for': 'sessionName' }))),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('scheduledMessage') }), message.el),
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('scheduledAt') }), at,
            h('small', { class: 'field-hint', text: t('scheduledAtHint') }), h('small', { class: 'field-error', 'data-error-for': 'scheduleAt' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('repeatLabel') }), frequency,
            h('small', { class: 'field-error', 'data-error-for': 'repeat.frequency' }), h('small', { class: 'field-error', 'data-error-for': 'repeat' }))),
        repeatBox,
        h('label', { class: 'switch-field' }, active, h('span', { class: 'switch' }, h('i')), h('span', {}, h('b', { text: t('scheduledActive') }))),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        save.disabled = true;
        const repeat = frequency.value ? {
          frequency: frequency.value,
          interval: Number(interval.value) || 1,
          until: endKind.value === 'until' && until.value ? until.value : undefined,
          count: endKind.value === 'count' ? Number(count.value) || undefined : undefined,
        } : null;
        const body = { to: to.value.trim(), sessionName: session.value || null, message: messageOf(message.value()), scheduleAt: at.value, repeat, isActive: active.checked };
        try {
          const data = schedule
            ? await api('PUT', `/whatsapp/scheduled-messages/${encodeURIComponent(schedule.id)}`, { json: body })
            : await api('POST', '/whatsapp/scheduled-messages', { json: { ...body, sessionName: body.sessionName || undefined, repeat: repeat || undefined } });
          toast(t('saved'), 'success');
          close();
          onSaved(data.scheduledMessage);
        } catch (err) {
          if (err.code === 'TEMPLATE_VARIABLE_MISSING') {
            form.querySelector('[data-error-for=message]').textContent = `${err.message}: ${(err.details?.missing || []).join(', ')}`;
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

/** An instant as the organization's clock shows it (its zone, not the browser's). */
function inZone(iso, zone) {
  try {
    return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', timeZone: zone || undefined }).format(new Date(iso));
  } catch {
    return formatDateTime(iso);
  }
}

function occurrencesDialog(schedule, zone) {
  openDialog({
    title: t('scheduledHistory'),
    build: (close) => {
      const body = h('div', { class: 'occurrence-list', id: 'occurrence-list' }, spinner());
      api('GET', `/whatsapp/scheduled-messages/${encodeURIComponent(schedule.id)}/occurrences`, { query: { limit: 100 } })
        .then((data) => {
          if (!data.occurrences.length) {
            body.replaceChildren(emptyState('clock', t('noOccurrences'), null));
            return;
          }
          body.replaceChildren(h('table', { class: 'table' },
            h('thead', {}, h('tr', {}, h('th', { text: '#' }), h('th', { text: t('occurrenceDue') }), h('th', { text: t('status') }))),
            h('tbody', {}, data.occurrences.map((o) => h('tr', { 'data-status': o.status },
              h('td', { dir: 'ltr', text: String(o.number + 1) }),
              h('td', { text: inZone(o.dueAt, zone) }),
              h('td', {}, h('span', { class: `badge occurrence-${o.status}`, text: t(`occurrence_${o.status}`) }),
                o.reason ? h('small', { class: 'muted occurrence-reason', text: ` ${t(`occurrenceReason_${o.reason}`)}` }) : null))))));
        })
        .catch((err) => body.replaceChildren(emptyState('alert', err.message, null)));
      return h('div', {}, body, h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('close'))));
    },
  });
}

function scheduleCard(s, { canChange, onEdit, onAction, zone }) {
  const act = (action, label, cls = 'btn-ghost') => h('button', { type: 'button', class: `btn btn-sm ${cls}`, 'data-action': `${action}-scheduled`, onclick: () => onAction(s, action) }, t(label));
  const live = s.status === 'active' || s.status === 'paused';
  return h('article', { class: `card scheduled-card status-${s.status}`, 'data-scheduled': s.id, 'data-to': s.to },
    h('header', { class: 'rule-head' },
      h('div', { class: 'rule-title' },
        h('h3', {}, bdi(phone(s.to), { dir: 'ltr' })),
        h('span', { class: `badge scheduled-${s.status}`, text: t(`scheduled_${s.status}`) }),
        s.sessionName ? h('span', { class: 'chip chip-session', dir: 'ltr', text: s.sessionName }) : null)),
    h('dl', { class: 'rule-summary' },
      h('dt', { text: t('scheduledWhen') }), h('dd', { 'data-when': '', text: `${localPhrase(s.scheduleAt)} · ${repeatPhrase(s)}` }),
      h('dt', { text: t('scheduledMessage') }), h('dd', { class: 'rule-reply', dir: 'auto', text: replySummary(replyOf(s.message)) }),
      h('dt', { text: t('scheduledNext') }), h('dd', { 'data-next': '', text: s.nextRunAt ? inZone(s.nextRunAt, zone) : '—' })),
    h('footer', { class: 'card-actions' },
      h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'history-scheduled', onclick: () => occurrencesDialog(s, zone) }, icon('clock', { size: 14 }), h('span', { text: t('scheduledHistory') })),
      canChange && live ? [
        h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'edit-scheduled', onclick: () => onEdit(s) }, icon('edit', { size: 14 }), h('span', { text: t('edit') })),
        s.status === 'active' ? act('pause', 'pause') : act('resume', 'resume'),
        act('cancel', 'cancelSchedule', 'btn-danger-ghost'),
      ] : null,
      canChange && !live ? act('delete', 'delete', 'btn-danger-ghost') : null));
}

/** A month of what is coming: a grid of days on a wide screen, a list of days on a phone. */
function calendarView(root) {
  const now = new Date();
  let year = now.getFullYear();
  let month = now.getMonth();
  const title = h('h3', { class: 'calendar-title' });
  const grid = h('div', { class: 'calendar-grid', id: 'scheduled-calendar' });
  const move = (by) => {
    month += by;
    if (month < 0) { month = 11; year -= 1; }
    if (month > 11) { month = 0; year += 1; }
    draw();
  };
  root.append(h('div', { class: 'calendar-head' },
    h('button', { type: 'button', class: 'icon-btn', 'data-action': 'calendar-previous', 'aria-label': t('previousMonth'), onclick: () => move(-1) }, icon('back', { size: 18 })),
    title,
    h('button', { type: 'button', class: 'icon-btn', 'data-action': 'calendar-next', 'aria-label': t('nextMonth'), onclick: () => move(1) }, h('span', { class: 'icon-flip' }, icon('back', { size: 18 })))),
  grid);
  async function draw() {
    const days = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
    title.textContent = new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(year, month, 1)));
    grid.replaceChildren(spinner());
    const from = `${year}-${String(month + 1).padStart(2, '0')}-01`;
    try {
      const data = await api('GET', '/whatsapp/scheduled-messages/calendar', { query: { from, days } });
      const byDay = new Map();
      for (const o of data.occurrences) {
        const day = o.localTime.slice(0, 10);
        if (!byDay.has(day)) byDay.set(day, []);
        byDay.get(day).push(o);
      }
      const lead = new Date(Date.UTC(year, month, 1)).getUTCDay();
      const cells = [];
      for (let i = 0; i < lead; i += 1) cells.push(h('div', { class: 'calendar-day is-blank', 'aria-hidden': 'true' }));
      for (let d = 1; d <= days; d += 1) {
        const key = `${from.slice(0, 8)}${String(d).padStart(2, '0')}`;
        const items = byDay.get(key) || [];
        const label = new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(year, month, d)));
        cells.push(h('div', { class: `calendar-day${items.length ? ' has-items' : ''}`, 'data-day': key },
          h('span', { class: 'calendar-date', text: label }),
          items.map((o) => h('span', { class: 'calendar-item', 'data-scheduled': o.scheduledMessageId, title: replySummary(replyOf(o.message)) },
            h('b', { dir: 'ltr', text: o.localTime.slice(11, 16) }), ' ', bdi(phone(o.to), { dir: 'ltr' })))));
      }
      grid.replaceChildren(...cells);
      grid.dataset.month = from.slice(0, 7);
      grid.dataset.count = String(data.occurrences.length);
    } catch (err) {
      grid.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  draw();
  return { redraw: draw };
}

export function mount(root, { canManage, me }) {
  const list = h('div', { class: 'scheduled-list', id: 'scheduled-list' }, spinner());
  const status = h('select', { name: 'status', 'aria-label': t('status') },
    h('option', { value: '', text: t('allStatuses') }),
    STATUSES.map((s) => h('option', { value: s, text: t(`scheduled_${s}`) })));
  const add = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-scheduled' }, icon('plus', { size: 16 }), h('span', { text: t('newScheduled') }));
  const calendarBox = h('section', { class: 'card calendar-card', 'aria-label': t('scheduledCalendar') });
  root.append(
    h('div', { class: 'section-head scheduled-head' }, status, add),
    h('p', { class: 'muted', text: t('scheduledHint') }),
    h('div', { class: 'scheduled-layout' }, list, calendarBox));
  const calendar = calendarView(calendarBox);
  let templates = [];
  let zone = null;
  let alive = true;
  const canChange = (s) => canManage || s.createdBy === me?.user?.id;
  async function act(s, action) {
    if (action === 'cancel' && !(await confirmDialog({ title: t('cancelSchedule'), text: phone(s.to), action: t('cancelSchedule'), danger: true }))) return;
    if (action === 'delete' && !(await confirmDialog({ title: t('deleteScheduled'), text: phone(s.to), action: t('delete'), danger: true }))) return;
    try {
      if (action === 'delete') await api('DELETE', `/whatsapp/scheduled-messages/${encodeURIComponent(s.id)}`);
      else await api('POST', `/whatsapp/scheduled-messages/${encodeURIComponent(s.id)}/${action}`, { json: {} });
      reload();
    } catch (err) {
      toastError(err);
    }
  }
  function reload() {
    load();
    calendar.redraw();
  }
  async function load() {
    try {
      const data = await api('GET', '/whatsapp/scheduled-messages', { query: { status: status.value, limit: 100 } });
      if (!alive) return;
      if (!data.scheduledMessages.length) {
        list.replaceChildren(emptyState('clock', t('noScheduled'), t('noScheduledHint')));
        return;
      }
      list.replaceChildren(...data.scheduledMessages.map((s) => scheduleCard(s, {
        canChange: canChange(s),
        onEdit: (x) => scheduleDialog(x, templates, reload),
        onAction: act,
        zone,
      })));
    } catch (err) {
      toastError(err);
      list.replaceChildren(emptyState('alert', err.message, null));
    }
  }
  status.addEventListener('change', load);
  add.addEventListener('click', () => scheduleDialog(null, templates, reload));
  api('GET', '/whatsapp/templates', { query: { limit: 100 } }).then((d) => { templates = d.templates; }).catch(() => {});
  sharedSessions.refresh().catch(() => {});
  api('GET', '/organization').then((d) => { zone = d.organization.timezone; }).catch(() => {}).finally(load);
  return () => { alive = false; };
}
