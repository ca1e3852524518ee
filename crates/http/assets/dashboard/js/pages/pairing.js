// Linking a session: the QR (refreshed until the phone scans), the sandbox's test phone, and
// the connected number at the end.
import { known, t } from '../i18n.js';
import { api } from '../api.js';
import { clearFieldErrors, every, h, icon, openDialog, phone, showFieldErrors, spinner, toast, toastError } from '../ui.js';

export function statusBadge(status) {
  return h('span', { class: `badge status status-${status}`, 'data-status': status }, h('i'), h('span', { text: t(`status_${status}`) }));
}

/** The sandbox's "phone": scans the session's QR with a test number. */
export function sandboxScanForm(sessionName, onScanned) {
  const input = h('input', { name: 'phoneNumber', type: 'tel', dir: 'ltr', required: true, value: '+966500000001', 'aria-label': t('sandboxScanHint') });
  const button = h('button', { type: 'submit', class: 'btn btn-sandbox' }, icon('zap', { size: 16 }), h('span', { text: t('sandboxScan') }));
  const form = h('form', { class: 'inline-form', 'data-form': 'sandbox-scan' },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('sandboxScanHint') }), input),
    button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await api('POST', `/whatsapp/sandbox/${encodeURIComponent(sessionName)}/scan`, { json: { phoneNumber: input.value } });
      toast(t('sandboxScanned'), 'success');
      onScanned?.();
    } catch (err) {
      toastError(err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Why a session's connection ended, in the UI's language, with what to do next; the
 *  engine's own words (English) stay in the tooltip for whoever reports a problem. */
export function reasonText(s) {
  const code = s.lastDisconnectCode || 'other';
  const key = known(`reason_${code}`) ? `reason_${code}` : 'reason_other';
  return h('span', { title: s.lastDisconnectReason || '', 'data-reason-code': code, text: t(key) });
}

/** Linking by phone number instead of the QR: WhatsApp on that phone asks for the code shown
 *  (Linked devices → Link with phone number). */
function pairingCodeForm(sessionName) {
  const input = h('input', { name: 'phoneNumber', type: 'tel', dir: 'ltr', required: true, placeholder: '+966 5…', autocomplete: 'tel' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, t('getPairingCode'));
  const code = h('output', { class: 'pairing-code', dir: 'ltr', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline-form', id: 'pairing-code-form', novalidate: true },
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('pairByPhoneHint') }), input,
      h('small', { class: 'field-error', 'data-error-for': 'phoneNumber' })),
    button, code);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    button.disabled = true;
    try {
      const data = await api('POST', `/whatsapp/sessions/${encodeURIComponent(sessionName)}/pairing-code`, { json: { phoneNumber: input.value } });
      code.textContent = data.code;
      code.title = t('pairCodeSteps');
    } catch (err) {
      if (!showFieldErrors(form, err)) toastError(err);
    } finally {
      button.disabled = false;
    }
  });
  return h('details', { class: 'pair-by-phone' }, h('summary', { text: t('pairByPhone') }), form,
    h('small', { class: 'muted', text: t('pairCodeSteps') }));
}

/** Opens the pairing dialog for a session that was just created (or re-created). */
export function openPairing(session, onChange) {
  const name = session.sessionName;
  const qrBox = h('div', { id: 'pair-qr', class: 'pair-qr' }, spinner(t('pairWaiting')));
  const badgeSlot = h('div', { class: 'pair-status' }, statusBadge(session.status));
  const phoneSlot = h('div', { class: 'pair-phone' });
  const reasonSlot = h('p', { class: 'pair-reason' });
  // While a web session keeps failing to reach WhatsApp, say so (and why) instead of waiting
  // for a QR code that cannot come.
  const problemSlot = h('div', { class: 'pair-problem', role: 'status', hidden: true });
  const relinkBtn = h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-action': 'pair-retry', onclick: relink }, t('reconnect'));
  const view = h('div', { class: 'pair', 'data-state': 'waiting' },
    h('div', { class: 'pair-linking' },
      problemSlot,
      h('ol', { class: 'pair-steps' }, h('li', { text: t('pairScan') })),
      qrBox,
      h('small', { class: 'muted pair-hint' }, icon('refresh', { size: 14 }), h('span', { text: t('pairRefreshing') })),
      session.engine === 'sandbox'
        ? h('div', { class: 'sandbox-box' }, h('h4', {}, icon('zap', { size: 16 }), h('span', { text: t('sandboxTitle') })), sandboxScanForm(name, () => refreshStatus()))
        : session.engine === 'web' ? pairingCodeForm(name) : null),
    h('div', { class: 'pair-done' },
      h('div', { class: 'pair-check' }, icon('check', { size: 40 })),
      h('h3', { text: t('pairConnected') }),
      h('p', { class: 'muted', text: t('pairConnectedAs') }),
      phoneSlot),
    h('div', { class: 'pair-stopped' },
      h('div', { class: 'pair-alert' }, icon('alert', { size: 36 })),
      h('h3', { text: t('pairStopped') }),
      reasonSlot,
      relinkBtn),
    badgeSlot);

  let stopQr = null;
  let stopStatus = null;
  let status = session.status;

  async function refreshQr() {
    if (status !== 'qr' && status !== 'connecting') return;
    try {
      const data = await api('GET', `/whatsapp/sessions/${encodeURIComponent(name)}/qr`);
      let img = qrBox.querySelector('img');
      if (!img) {
        img = h('img', { alt: 'QR', width: 264, height: 264 });
        qrBox.replaceChildren(img);
      }
      if (img.getAttribute('src') !== data.qrCode) img.src = data.qrCode;
    } catch (err) {
      if (err.code === 'SESSION_ALREADY_CONNECTED') refreshStatus();
      else if (err.code !== 'QR_NOT_READY') throw err;
    }
  }

  async function relink() {
    relinkBtn.disabled = true;
    try {
      await api('POST', '/whatsapp/sessions', { json: { sessionName: name, engine: session.engine } });
      status = null;
      await refreshStatus();
      stopQr?.();
      stopQr = every(3000, () => refreshQr().catch(() => {}));
    } catch (err) {
      toastError(err);
    } finally {
      relinkBtn.disabled = false;
    }
  }

  async function refreshStatus() {
    const data = await api('GET', `/whatsapp/sessions/${encodeURIComponent(name)}/status`);
    const s = data.session;
    const changed = s.status !== status;
    status = s.status;
    badgeSlot.replaceChildren(statusBadge(status));
    if (status === 'connected') {
      view.dataset.state = 'connected';
      phoneSlot.replaceChildren(phone(s.phoneNumber));
      stopQr?.();
    } else if (status === 'logged_out' || status === 'failed') {
      view.dataset.state = 'stopped';
      reasonSlot.replaceChildren(s.lastDisconnectReason ? reasonText(s) : t(`status_${status}`));
      stopQr?.();
    } else {
      view.dataset.state = 'waiting';
      const failing = status === 'connecting' && s.connectionAttempts > 0 && s.lastDisconnectReason;
      problemSlot.hidden = !failing;
      problemSlot.replaceChildren(...(failing
        ? [icon('alert', { size: 16 }), h('div', {}, h('b', { text: t('pairCannotReach') }), ' ', reasonText(s),
          h('small', { class: 'muted', text: t('pairRetrying', { n: s.connectionAttempts }) }))]
        : []));
      if (changed) refreshQr().catch(() => {});
    }
    if (changed) onChange?.();
  }

  const dialog = openDialog({
    title: t('pairTitle', { name }),
    cls: 'dialog-pair',
    build: (close) => [view, h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'pair-done', onclick: close }, t('done')))],
    onClose: () => {
      stopQr?.();
      stopStatus?.();
      onChange?.();
    },
  });
  let qrFailed = false;
  stopQr = every(3000, () => refreshQr().catch((err) => {
    if (!qrFailed) toastError(err);
    qrFailed = true;
  }));
  stopStatus = every(1500, refreshStatus);
  return dialog;
}
