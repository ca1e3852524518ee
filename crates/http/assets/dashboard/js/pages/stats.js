// Stats: the organization's numbers, and messages per day drawn as inline SVG bars.
import { isRtl, locale, t } from '../i18n.js';
import { api } from '../api.js';
import { every, formatNumber, h, icon, spinner, toastError } from '../ui.js';

const NS = 'http://www.w3.org/2000/svg';
const CARDS = [
  ['totalMessages', 'chat'],
  ['messagesLast24h', 'activity'],
  ['totalContacts', 'users'],
  ['activeSessions', 'phone'],
  ['totalSessions', 'link'],
];

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A nice round ceiling for the axis: 1, 2, 5 × 10^n. */
function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** The chart drawn at the width it is shown at, so its labels keep a readable size. */
export function chart(days, width = 720) {
  const W = Math.max(300, Math.round(width));
  const H = W < 500 ? 220 : 260;
  const pad = { top: 16, bottom: 34, side: W < 500 ? 28 : 40 };
  const n = Math.max(days.length, 1);
  const max = niceMax(Math.max(0, ...days.map((d) => (d.incoming || 0) + (d.outgoing || 0))));
  const plotW = W - pad.side * 2;
  const plotH = H - pad.top - pad.bottom;
  const slot = plotW / n;
  const barW = Math.min(28, slot * 0.6);
  const rtl = isRtl();
  // Every day is labelled when there is room; otherwise every other (or third) day, ending today.
  const labelStep = Math.ceil(44 / slot);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': t('messagesPerDay') });
  // Axis labels sit on the reading side: the left in English, the right in Arabic.
  const axisX = rtl ? W - pad.side + 8 : pad.side - 8;
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const y = pad.top + plotH - (plotH * i) / 4;
    root.append(svg('line', { x1: pad.side, x2: W - pad.side, y1: y, y2: y, class: i === 0 ? 'axis' : 'grid' }));
    root.append(svg('text', { x: axisX, y: y + 4, class: 'tick-label', 'text-anchor': rtl ? 'start' : 'end' }, formatNumber(v)));
  }
  const fmt = new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' });
  days.forEach((d, i) => {
    const slotIndex = rtl ? n - 1 - i : i;
    const x = pad.side + slot * slotIndex + (slot - barW) / 2;
    const inH = (plotH * (d.incoming || 0)) / max;
    const outH = (plotH * (d.outgoing || 0)) / max;
    const base = pad.top + plotH;
    const label = fmt.format(new Date(`${d.date}T00:00:00Z`));
    const g = svg('g', { class: 'bar-group', 'data-date': d.date });
    g.append(svg('title', {}, `${label}: ${t('incoming')} ${d.incoming || 0} · ${t('outgoing')} ${d.outgoing || 0}`));
    if (inH > 0) g.append(svg('rect', { x, y: base - inH, width: barW, height: inH, rx: 3, class: 'bar bar-in' }));
    if (outH > 0) g.append(svg('rect', { x, y: base - inH - outH, width: barW, height: outH, rx: 3, class: 'bar bar-out' }));
    g.append(svg('rect', { x: pad.side + slot * slotIndex, y: pad.top, width: slot, height: plotH, class: 'bar-hit' }));
    if ((n - 1 - i) % labelStep === 0) g.append(svg('text', { x: x + barW / 2, y: H - 12, class: 'tick-label', 'text-anchor': 'middle' }, label));
    root.append(g);
  });
  return root;
}

export function mount(root) {
  const cards = h('div', { class: 'stat-grid' }, spinner());
  const chartBox = h('div', { class: 'card chart-card' },
    h('div', { class: 'chart-head' },
      h('h2', { text: t('messagesPerDay') }),
      h('div', { class: 'legend' },
        h('span', {}, h('i', { class: 'swatch swatch-in' }), t('incoming')),
        h('span', {}, h('i', { class: 'swatch swatch-out' }), t('outgoing')))),
    h('div', { class: 'chart-body' }));
  root.append(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: t('statsTitle') }), h('p', { class: 'muted', text: t('statsSubtitle') }))),
    cards, chartBox);

  let failed = false;
  async function load() {
    let s;
    try {
      s = await api('GET', '/whatsapp/stats');
    } catch (err) {
      if (!failed) toastError(err);
      failed = true;
      return;
    }
    cards.replaceChildren(...CARDS.map(([key, name]) =>
      h('div', { class: 'card stat-card', 'data-stat': key },
        h('span', { class: `stat-icon stat-${key}` }, icon(name, { size: 22 })),
        h('div', {}, h('div', { class: 'stat-value', text: formatNumber(s[key]) }), h('div', { class: 'stat-label', text: t(key) })))));
    const days = s.messagesPerDay || [];
    const total = days.reduce((a, d) => a + (d.incoming || 0) + (d.outgoing || 0), 0);
    const bodyEl = chartBox.querySelector('.chart-body');
    bodyEl.replaceChildren(chart(days, bodyEl.clientWidth || 720));
    if (total === 0) bodyEl.append(h('p', { class: 'chart-empty muted', text: t('noChartData') }));
  }
  const stop = every(10000, load);
  return stop;
}
