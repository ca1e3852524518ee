// Linking a session: the QR (refreshed until the phone scans), the sandbox's test phone, and
// the connected number at the end.
import { t } from '../i18n.js';
import { api } from '../api.js';
import { every, h, icon, openDialog, phone, spinner, toast, toastError } from '../ui.js';

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

/** Opens the pairing dialog for a session that was just created (or re-created). */
export function openPairing(session, onChange) {
  const name = session.sessionName;
  const qrBox = h('div', { id: 'pair-qr', class: 'pair-qr' }, spinner(t('pairWaiting')));
  const badgeSlot = h('div', { class: 'pair-status' }, statusBadge(session.status));
  const phoneSlot = h('div', { class: 'pair-phone' });
  const reasonSlot = h('p', { class: 'pair-reason' });
  const view = h('div', { class: 'pair', 'data-state': 'waiting' },
    h('div', { class: 'pair-linking' },
      h('ol', { class: 'pair-steps' }, h('li', { text: t('pairScan') })),
      qrBox,
      h('small', { class: 'muted pair-hint' }, icon('refresh', { size: 14 }), h('span', { text: t('pairRefreshing') })),
      session.engine === 'sandbox'
        ? h('div', { class: 'sandbox-box' }, h('h4', {}, icon('zap', { size: 16 }), h('span', { text: t('sandboxTitle') })), sandboxScanForm(name, () => refreshStatus()))
        : null),
    h('div', { class: 'pair-done' },
      h('div', { class: 'pair-check' }, icon('check', { size: 40 })),
      h('h3', { text: t('pairConnected') }),
      h('p', { class: 'muted', text: t('pairConnectedAs') }),
      phoneSlot),
    h('div', { class: 'pair-stopped' },
      h('div', { class: 'pair-alert' }, icon('alert', { size: 36 })),
      h('h3', { text: t('pairStopped') }),
      reasonSlot),
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
      reasonSlot.textContent = s.lastDisconnectReason || t(`status_${status}`);
      stopQr?.();
    } else {
      view.dataset.state = 'waiting';
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
