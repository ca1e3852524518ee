// Stroke icons drawn inline (no icon font, no network). Each is a list of SVG elements.
const P = (d) => ['path', { d }];
const L = (x1, y1, x2, y2) => ['line', { x1, y1, x2, y2 }];
const C = (cx, cy, r) => ['circle', { cx, cy, r }];
const PL = (points) => ['polyline', { points }];

const ICONS = {
  chat: [P('M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z')],
  phone: [['rect', { x: 5, y: 2, width: 14, height: 20, rx: 2.5 }], L(11, 18, 13, 18)],
  users: [P('M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2'), C(9, 7, 4), P('M23 21v-2a4 4 0 0 0-3-3.87'), P('M16 3.13a4 4 0 0 1 0 7.75')],
  settings: [C(12, 12, 3), P('M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06A1.65 1.65 0 0 0 4.68 15a1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06A1.65 1.65 0 0 0 9 4.68a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06A1.65 1.65 0 0 0 19.4 9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z')],
  smile: [C(12, 12, 10), P('M8 14s1.5 2 4 2 4-2 4-2'), L(9, 9, 9.01, 9), L(15, 9, 15.01, 9)],
  chart: [L(18, 20, 18, 10), L(12, 20, 12, 4), L(6, 20, 6, 14)],
  key: [['rect', { x: 3, y: 11, width: 18, height: 11, rx: 2 }], P('M7 11V7a5 5 0 0 1 10 0v4')],
  logout: [P('M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4'), PL('16 17 21 12 16 7'), L(21, 12, 9, 12)],
  globe: [C(12, 12, 10), L(2, 12, 22, 12), P('M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z')],
  clip: [P('M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48')],
  send: [L(22, 2, 11, 13), ['polygon', { points: '22 2 15 22 11 13 2 9 22 2' }]],
  search: [C(11, 11, 7), L(21, 21, 16.2, 16.2)],
  plus: [L(12, 5, 12, 19), L(5, 12, 19, 12)],
  reply: [PL('9 14 4 9 9 4'), P('M20 20v-7a4 4 0 0 0-4-4H4')],
  x: [L(18, 6, 6, 18), L(6, 6, 18, 18)],
  back: [L(19, 12, 5, 12), PL('12 19 5 12 12 5')],
  check: [PL('20 6 9 17 4 12')],
  clock: [C(12, 12, 9), PL('12 7 12 12 15 14')],
  alert: [C(12, 12, 10), L(12, 8, 12, 12), L(12, 16, 12.01, 16)],
  file: [P('M13 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z'), PL('13 2 13 9 20 9')],
  download: [P('M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4'), PL('7 10 12 15 17 10'), L(12, 15, 12, 3)],
  edit: [P('M12 20h9'), P('M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z')],
  qr: [['rect', { x: 3, y: 3, width: 7, height: 7, rx: 1 }], ['rect', { x: 14, y: 3, width: 7, height: 7, rx: 1 }], ['rect', { x: 3, y: 14, width: 7, height: 7, rx: 1 }], P('M14 14h3v3h-3zM20 14v.01M14 20h.01M17 20h4v-3')],
  power: [P('M18.36 6.64a9 9 0 1 1-12.73 0'), L(12, 2, 12, 12)],
  refresh: [PL('23 4 23 10 17 10'), P('M20.49 15a9 9 0 1 1-2.12-9.36L23 10')],
  block: [C(12, 12, 10), L(4.93, 4.93, 19.07, 19.07)],
  activity: [PL('22 12 18 12 15 21 9 3 6 12 2 12')],
  zap: [['polygon', { points: '13 2 3 14 12 14 11 22 21 10 12 10 13 2' }]],
  tag: [P('M20.59 13.41l-7.17 7.17a2 2 0 0 1-2.83 0L2 12V2h10l8.59 8.59a2 2 0 0 1 0 2.82z'), L(7, 7, 7.01, 7)],
  image: [['rect', { x: 3, y: 3, width: 18, height: 18, rx: 2 }], C(8.5, 8.5, 1.5), PL('21 15 16 10 5 21')],
  video: [['polygon', { points: '23 7 16 12 23 17 23 7' }], ['rect', { x: 1, y: 5, width: 15, height: 14, rx: 2 }]],
  mic: [P('M12 1a3 3 0 0 0-3 3v8a3 3 0 0 0 6 0V4a3 3 0 0 0-3-3z'), P('M19 10v2a7 7 0 0 1-14 0v-2'), L(12, 19, 12, 23)],
  message: [P('M21 11.5a8.38 8.38 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.38 8.38 0 0 1-3.8-.9L3 21l1.9-5.7a8.38 8.38 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.38 8.38 0 0 1 3.8-.9h.5a8.48 8.48 0 0 1 8 8v.5z')],
  link: [P('M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71'), P('M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71')],
  inbox: [PL('22 12 16 12 14 15 10 15 8 12 2 12'), P('M5.45 5.11L2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z')],
};

const NS = 'http://www.w3.org/2000/svg';

/** An inline SVG icon; `flip` mirrors direction-bearing icons in right-to-left layouts. */
export function icon(name, { size = 20, cls = '' } = {}) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', size);
  svg.setAttribute('height', size);
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', `icon icon-${name} ${cls}`.trim());
  for (const [tag, attrs] of ICONS[name] || []) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.append(node);
  }
  return svg;
}
