// Business hours: a weekly editor (several periods a day; a period whose end is at or before
// its start runs past midnight), holidays as whole days, and whether the organization is open
// now with when that changes, read in the organization's time zone by the server.
import { locale, t } from '../i18n.js';
import { api } from '../api.js';
import { h, icon, spinner, toast, toastError } from '../ui.js';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** The name of a day in the UI's language: 2027-01-03 was a Sunday. */
function dayName(index) {
  return new Intl.DateTimeFormat(locale(), { weekday: 'long', timeZone: 'UTC' })
    .format(new Date(Date.UTC(2027, 0, 3 + index)));
}

/** A stored date (`2027-03-30`) as the UI's language writes it. */
function dateName(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'full', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A time of the organization's zone, `nextChange` being an instant. */
function when(iso, zone) {
  try {
    return new Intl.DateTimeFormat(locale(), { timeZone: zone, weekday: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

export function businessHours({ canManage }) {
  const status = h('p', { class: 'hours-now muted', id: 'hours-now', role: 'status' });
  const days = h('div', { class: 'hours-week' });
  const holidayList = h('ul', { class: 'hours-holidays', id: 'holiday-list' });
  const newHoliday = h('input', { type: 'date', name: 'holiday', disabled: !canManage, 'aria-label': t('holidayDate') });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', disabled: !canManage }, t('save'));
  const form = h('form', { class: 'form', id: 'business-hours-form', novalidate: true },
    h('h2', { text: t('businessHours') }),
    h('p', { class: 'muted', text: t('businessHoursHint') }),
    status,
    days,
    h('h3', { text: t('holidays') }),
    holidayList,
    h('div', { class: 'hours-add-holiday' }, newHoliday,
      h('button', { type: 'button', class: 'btn', 'data-action': 'add-holiday', disabled: !canManage,
        onclick: () => addHoliday() }, icon('plus', { size: 16 }), h('span', { text: t('addHoliday') }))),
    h('p', { class: 'field-error', 'data-error-for': 'weekly', id: 'hours-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, save));
  const card = h('div', { class: 'card settings-card', id: 'business-hours' }, spinner());

  // What the editor holds: periods by day, holidays sorted.
  let week = Object.fromEntries(DAYS.map((d) => [d, []]));
  let holidays = [];
  let zone = 'UTC';
  let alive = true;

  function periodRow(day, period, index) {
    const start = h('input', { type: 'time', value: period.start, required: true, disabled: !canManage,
      'aria-label': t('periodStart'), name: `${day}-${index}-start` });
    const end = h('input', { type: 'time', value: period.end === '24:00' ? '00:00' : period.end, required: true,
      disabled: !canManage, 'aria-label': t('periodEnd'), name: `${day}-${index}-end` });
    const overnight = h('small', { class: 'hours-overnight muted' });
    const showOvernight = () => {
      overnight.textContent = end.value && start.value && end.value <= start.value ? t('nextDay') : '';
    };
    showOvernight();
    start.addEventListener('input', () => { period.start = start.value; showOvernight(); });
    end.addEventListener('input', () => { period.end = end.value; showOvernight(); });
    return h('div', { class: 'hours-period' }, start, h('span', { 'aria-hidden': 'true', text: '–' }), end, overnight,
      canManage ? h('button', { type: 'button', class: 'icon-btn', 'data-action': 'remove-period', title: t('removePeriod'),
        'aria-label': t('removePeriod'), onclick: () => { week[day].splice(index, 1); draw(); } }, icon('x', { size: 16 })) : null);
  }

  function dayRow(day, index) {
    const periods = week[day];
    return h('fieldset', { class: 'hours-day', 'data-day': day },
      h('legend', { text: dayName(index) }),
      periods.length
        ? h('div', { class: 'hours-periods' }, ...periods.map((p, i) => periodRow(day, p, i)))
        : h('span', { class: 'muted hours-closed', text: t('closedDay') }),
      canManage ? h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'add-period',
        onclick: () => {
          const last = periods[periods.length - 1];
          periods.push(last ? { start: last.end, end: last.end < '22:00' ? '22:00' : '23:59' } : { start: '09:00', end: '17:00' });
          draw();
        } }, icon('plus', { size: 14 }), h('span', { text: t('addPeriod') })) : null);
  }

  function draw() {
    days.replaceChildren(...DAYS.map(dayRow));
    holidayList.replaceChildren(...(holidays.length
      ? holidays.map((d, i) => h('li', { 'data-date': d }, h('span', { text: dateName(d) }),
        canManage ? h('button', { type: 'button', class: 'icon-btn', title: t('removeHoliday'), 'aria-label': t('removeHoliday'),
          onclick: () => { holidays.splice(i, 1); draw(); } }, icon('x', { size: 16 })) : null))
      : [h('li', { class: 'muted', text: t('noHolidays') })]));
  }

  function addHoliday() {
    const value = newHoliday.value;
    if (!value) return;
    if (!holidays.includes(value)) holidays = [...holidays, value].sort();
    newHoliday.value = '';
    draw();
  }

  async function showNow() {
    try {
      const now = await api('GET', '/organization/business-hours/now');
      if (!alive) return;
      zone = now.timezone;
      const next = now.nextChange ? when(now.nextChange, zone) : null;
      status.dataset.open = String(now.open);
      status.textContent = now.open
        ? (next ? t('openNowUntil', { when: next }) : t('openNow'))
        : (next ? t('closedNowUntil', { when: next }) : t('noBusinessHours'));
    } catch (err) {
      toastError(err);
    }
  }

  async function refresh() {
    try {
      const data = await api('GET', '/organization/business-hours');
      if (!alive) return;
      week = Object.fromEntries(DAYS.map((d) => [d, (data.businessHours.weekly[d] || []).map((p) => ({ ...p }))]));
      holidays = [...data.businessHours.holidays];
      zone = data.timezone;
      draw();
      card.replaceChildren(form);
      await showNow();
    } catch (err) {
      toastError(err);
      card.replaceChildren(h('p', { class: 'muted', text: t('unexpectedError') }));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = form.querySelector('#hours-error');
    error.textContent = '';
    save.disabled = true;
    try {
      const data = await api('PUT', '/organization/business-hours', { json: { weekly: week, holidays } });
      week = Object.fromEntries(DAYS.map((d) => [d, data.businessHours.weekly[d].map((p) => ({ ...p }))]));
      holidays = [...data.businessHours.holidays];
      draw();
      toast(t('saved'), 'success');
      await showNow();
    } catch (err) {
      const fields = err?.details?.fields;
      if (Array.isArray(fields) && fields.length) {
        error.textContent = fields.map((f) => (f.code === 'overlapping_periods' ? t('error_overlapping_periods') : f.reason)).join(' · ');
      } else {
        toastError(err);
      }
    } finally {
      save.disabled = !canManage;
    }
  });

  refresh();
  return { card, refresh, stop: () => { alive = false; } };
}
