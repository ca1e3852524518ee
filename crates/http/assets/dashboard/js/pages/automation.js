// Automation: auto-replies, templates, quick replies, the media library and scheduled messages, one tab each, each at an address of
// its own (`/dashboard/whatsapp/automation/templates`) so a tab can be linked and reloaded.
import { t } from '../i18n.js';
import { h, icon } from '../ui.js';
import { BASE } from '../router.js';
import * as autoReplies from './auto_replies.js';
import * as templates from './templates.js';
import * as quickReplies from './quick_replies.js';
import * as mediaLibrary from './media_library.js';
import * as scheduled from './scheduled.js';

const TABS = [
  { id: 'auto-replies', label: 'autoRepliesTab', icon: 'zap', page: autoReplies },
  { id: 'templates', label: 'templatesTab', icon: 'message', page: templates },
  { id: 'quick-replies', label: 'quickRepliesTab', icon: 'reply', page: quickReplies },
  { id: 'media', label: 'mediaTab', icon: 'image', page: mediaLibrary },
  { id: 'scheduled', label: 'scheduledTab', icon: 'clock', page: scheduled },
];

export function mount(root, context) {
  const canManage = ['owner', 'admin'].includes(context.me?.user?.role) || !context.me?.user;
  const tabs = h('nav', { class: 'automation-tabs', role: 'tablist', 'aria-label': t('navAutomation') });
  const panel = h('div', { class: 'automation-panel', role: 'tabpanel' });
  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: t('automationTitle') }), h('p', { class: 'muted', text: t('automationSubtitle') }))),
    tabs, panel);
  let mounted = null;
  let shown = null;

  function show(id) {
    const tab = TABS.find((x) => x.id === id) || TABS[0];
    if (shown === tab.id) return;
    shown = tab.id;
    if (typeof mounted === 'function') mounted();
    tabs.replaceChildren(...TABS.map((x) => h('a', {
      href: `${BASE}/automation/${x.id}`, role: 'tab', class: 'automation-tab', 'data-tab': x.id,
      'aria-selected': String(x.id === tab.id), tabindex: x.id === tab.id ? 0 : -1,
      onclick: (e) => {
        if (e.metaKey || e.ctrlKey) return;
        e.preventDefault();
        context.navigate('automation', { params: { tab: x.id } });
      },
    }, icon(x.icon, { size: 18 }), h('span', { text: t(x.label) }))));
    panel.replaceChildren();
    panel.dataset.tab = tab.id;
    mounted = tab.page.mount(panel, { ...context, canManage });
  }

  show(context.params?.tab);
  return {
    route: (params) => show(params.tab),
    unmount: () => { if (typeof mounted === 'function') mounted(); },
  };
}
