// Sessions: the organization's WhatsApp numbers with live status, linking and the sandbox.
import { t } from '../i18n.js';
import { api, pollInterval } from '../api.js';
import { sessions } from '../state.js';
import { confirmDialog, emptyState, every, formatDateTime, h, icon, openDialog, phone, spinner, toast, toastError } from '../ui.js';
import { openPairing, reasonText, sandboxScanForm, statusBadge } from './pairing.js';

const NAME_RE = /^[a-z0-9_-]{1,32}$/;

function newSessionDialog(onCreated) {
  openDialog({
    title: t('newSession'),
    build: (close) => {
      const name = h('input', { name: 'sessionName', required: true, maxlength: 32, pattern: '[a-z0-9_\\-]{1,32}', dir: 'ltr', value: 'default', autocomplete: 'off', spellcheck: 'false' });
      const engineOption = (value, title, hint, checked) =>
        h('label', { class: 'choice' },
          h('input', { type: 'radio', name: 'engine', value, checked }),
          h('span', { class: 'choice-body' },
            h('span', { class: 'choice-title' }, icon(value === 'sandbox' ? 'zap' : 'phone', { size: 18 }), h('span', { text: title })),
            h('small', { text: hint })));
      const button = h('button', { type: 'submit', class: 'btn btn-primary' }, t('create'));
      const form = h('form', { id: 'new-session-form', class: 'form' },
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('sessionName') }), name, h('small', { class: 'field-hint', text: t('sessionNameHint') })),
        h('fieldset', { class: 'field' }, h('legend', { class: 'field-label', text: t('engine') }),
          h('div', { class: 'choices' },
            engineOption('web', t('engineWeb'), t('engineWebHint'), true),
            engineOption('sandbox', t('engineSandbox'), t('engineSandboxHint'), false))),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')),
          button));
      name.addEventListener('input', () => {
        name.value = name.value.toLowerCase().replace(/\s+/g, '-');
        name.setCustomValidity(NAME_RE.test(name.value) ? '' : t('sessionNameHint'));
      });
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        button.disabled = true;
        try {
          const body = { sessionName: name.value, engine: form.elements.engine.value };
          const data = await api('POST', '/whatsapp/sessions', { json: body });
          close();
          onCreated(data.session);
        } catch (err) {
          toastError(err);
          button.disabled = false;
        }
      });
      setTimeout(() => name.select(), 0);
      return form;
    },
  });
}

function simulateForm(sessionName) {
  const from = h('input', { name: 'from', type: 'tel', dir: 'ltr', required: true, value: '+966501234567' });
  const pushName = h('input', { name: 'pushName', value: '' });
  const text = h('input', { name: 'text', required: true, maxlength: 4096 });
  const button = h('button', { type: 'submit', class: 'btn btn-sandbox' }, icon('message', { size: 16 }), h('span', { text: t('simulateSend') }));
  const form = h('form', { class: 'sim-form', 'data-form': 'simulate' },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('simulateFrom') }), from),
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('simulateName') }), pushName),
    h('label', { class: 'field field-wide' }, h('span', { class: 'field-label', text: t('simulateText') }), text),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await api('POST', `/whatsapp/sandbox/${encodeURIComponent(sessionName)}/incoming`, {
        json: { from: from.value, pushName: pushName.value || undefined, type: 'text', text: text.value },
      });
      toast(t('simulateSent'), 'success');
      text.value = '';
    } catch (err) {
      toastError(err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function sessionCard(initial, { refresh, navigate }) {
  let session = initial;
  const badgeSlot = h('span', { class: 'badge-slot' });
  const facts = h('dl', { class: 'facts' });
  const reason = h('div', { class: 'reason' });
  const actions = h('div', { class: 'card-actions' });
  const sandbox = initial.engine === 'sandbox'
    ? h('div', { class: 'sandbox-box' },
      h('h4', {}, icon('zap', { size: 16 }), h('span', { text: t('sandboxTitle') })),
      h('div', { class: 'sandbox-scan' }, sandboxScanForm(initial.sessionName, refresh)),
      h('div', { class: 'sandbox-sim' }, h('p', { class: 'sandbox-sub', text: t('simulateIncoming') }), simulateForm(initial.sessionName)))
    : null;
  const el = h('article', { class: 'card session-card', 'data-session': initial.sessionName },
    h('div', { class: 'session-head' },
      h('span', { class: `session-icon engine-${initial.engine}` }, icon(initial.engine === 'sandbox' ? 'zap' : 'phone', { size: 22 })),
      h('div', { class: 'session-title' },
        h('h3', { text: initial.sessionName }),
        h('small', { class: 'muted', text: initial.engine === 'sandbox' ? t('engineSandbox') : t('engineWeb') })),
      badgeSlot),
    facts, reason, actions, sandbox);

  const act = (iconName, label, action, onclick, cls = 'btn btn-ghost btn-sm') =>
    h('button', { type: 'button', class: cls, 'data-action': action, onclick }, icon(iconName, { size: 16 }), h('span', { text: label }));

  async function relink() {
    try {
      const data = await api('POST', '/whatsapp/sessions', { json: { sessionName: session.sessionName, engine: session.engine } });
      openPairing(data.session, refresh);
      refresh();
    } catch (err) {
      toastError(err);
    }
  }

  async function disconnect() {
    const ok = await confirmDialog({
      title: t('disconnectConfirmTitle'),
      text: t('disconnectConfirmText', { name: session.sessionName }),
      action: t('disconnect'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/whatsapp/sessions/${encodeURIComponent(session.sessionName)}`);
      refresh();
    } catch (err) {
      toastError(err);
    }
  }

  async function remove() {
    const ok = await confirmDialog({
      title: t('deleteSessionTitle'),
      text: t('deleteSessionText', { name: session.sessionName }),
      action: t('deleteForGood'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/whatsapp/sessions/${encodeURIComponent(session.sessionName)}`, { query: { purge: 'true' } });
      toast(t('sessionDeleted', { name: session.sessionName }), 'success');
      refresh();
    } catch (err) {
      toastError(err);
    }
  }

  function update(s) {
    session = s;
    el.dataset.status = s.status;
    badgeSlot.replaceChildren(statusBadge(s.status));
    const fact = (label, value) => [h('dt', { text: label }), h('dd', {}, value)];
    facts.replaceChildren(
      ...fact(t('phoneNumber'), phone(s.phoneNumber)),
      ...fact(t('lastConnected'), formatDateTime(s.lastConnected)),
      ...(s.connectionAttempts > 0 ? fact(t('attempts'), String(s.connectionAttempts)) : []));
    reason.replaceChildren(...(s.lastDisconnectReason && s.status !== 'connected'
      ? [icon('alert', { size: 16 }), h('span', {}, h('b', { text: `${t('lastDisconnectReason')}: ` }), reasonText(s))]
      : []));
    reason.hidden = !(s.lastDisconnectReason && s.status !== 'connected');
    const buttons = [];
    if (s.status === 'qr' || s.status === 'connecting') buttons.push(act('qr', t('showQr'), 'show-qr', () => openPairing(session, refresh), 'btn btn-primary btn-sm'));
    if (s.status === 'connected') buttons.push(act('chat', t('openChats'), 'open-chats', () => navigate('chat'), 'btn btn-primary btn-sm'));
    if (s.status === 'logged_out' || s.status === 'failed' || s.status === 'disconnected') buttons.push(act('refresh', t('reconnect'), 'relink', relink, 'btn btn-primary btn-sm'));
    if (s.status !== 'logged_out') buttons.push(act('power', t('disconnect'), 'disconnect', disconnect, 'btn btn-danger-ghost btn-sm'));
    else buttons.push(act('x', t('deleteForGood'), 'delete-session', remove, 'btn btn-danger-ghost btn-sm'));
    actions.replaceChildren(...buttons);
    if (sandbox) {
      sandbox.querySelector('.sandbox-scan').hidden = !(s.status === 'qr' || s.status === 'connecting');
      sandbox.querySelector('.sandbox-sim').hidden = s.status !== 'connected';
      sandbox.hidden = s.status === 'logged_out';
    }
  }
  update(initial);
  return { el, update };
}


export function mount(root, { navigate }) {
  const grid = h('div', { class: 'session-grid' }, spinner());
  const cards = new Map();
  let lastError = null;

  const render = (list) => {
    const seen = new Set();
    for (const s of list) {
      seen.add(s.sessionName);
      const card = cards.get(s.sessionName);
      if (card) card.update(s);
      else cards.set(s.sessionName, sessionCard(s, { refresh, navigate }));
    }
    for (const [name] of cards) if (!seen.has(name)) cards.delete(name);
    if (cards.size === 0) {
      grid.replaceChildren(emptyState('phone', t('noSessions'), t('noSessionsHint'), newButton('btn btn-primary')));
    } else {
      const ordered = list.map((s) => cards.get(s.sessionName).el);
      if (ordered.some((el, i) => grid.children[i] !== el) || grid.children.length !== ordered.length) grid.replaceChildren(...ordered);
    }
  };

  const refresh = async () => {
    try {
      await sessions.refresh();
      lastError = null;
    } catch (err) {
      if (lastError !== err.code) toastError(err);
      lastError = err.code;
    }
  };

  const create = () => newSessionDialog((session) => {
    refresh();
    openPairing(session, refresh);
  });
  function newButton(cls) {
    return h('button', { type: 'button', class: cls, 'data-action': 'new-session', onclick: create }, icon('plus', { size: 18 }), h('span', { text: t('newSession') }));
  }

  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: t('sessionsTitle') }), h('p', { class: 'muted', text: t('sessionsSubtitle') })),
      newButton('btn btn-primary')),
    grid);

  // The shared list follows session events; polling covers a page without live events.
  const off = sessions.subscribe(render);
  const stop = every(pollInterval, refresh);
  return () => {
    stop();
    off();
  };
}
