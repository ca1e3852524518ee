// Settings: the organization's name, the country its people write phone numbers in (so that
// `0551112233` reaches +966 55 111 2233), its time zone and language, and its business hours.
// Everyone sees them; owners and admins change them.
import { locale, t } from '../i18n.js';
import { api } from '../api.js';
import { COUNTRIES } from '../countries.js';
import { askDesktopPermission, notifyPrefs, setNotifyPrefs } from '../attention.js';
import { clearFieldErrors, h, showFieldErrors, spinner, toast, toastError } from '../ui.js';
import { getTheme, setTheme } from '../theme.js';
import { businessHours } from './hours.js';
import { tagEditor } from './contacts.js';

/** Every IANA time zone the browser knows, the organization's first when it is not among them. */
function zoneOptions(selected) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = ['Asia/Riyadh', 'Asia/Dubai', 'Asia/Kuwait', 'Asia/Qatar', 'Africa/Cairo', 'Europe/London', 'UTC'];
  }
  if (!zones.includes(selected)) zones = [selected, ...zones];
  return zones.map((zone) => h('option', { value: zone, selected: zone === selected, text: zone }));
}

/** The time now in `zone`, for the hint under the zone's field. */
function nowIn(zone) {
  try {
    return new Intl.DateTimeFormat(locale(), { timeZone: zone, weekday: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date());
  } catch {
    return '';
  }
}

/** The countries by their names in the UI's language, with their calling codes. */
function countryOptions(selected) {
  const names = new Intl.DisplayNames([locale()], { type: 'region' });
  const collator = new Intl.Collator(locale());
  const named = COUNTRIES.map(([code, calling]) => ({ code, calling, name: names.of(code) || code }))
    .sort((a, b) => collator.compare(a.name, b.name));
  return [
    h('option', { value: '', text: t('noDefaultCountry'), selected: !selected }),
    ...named.map((c) => h('option', { value: c.code, selected: c.code === selected },
      // The calling code is isolated so that "+966" keeps its sign on the left in Arabic.
      `${c.name} (\u2066+${c.calling}\u2069)`)),
  ];
}

export function mount(root, { me }) {
  const canManage = ['owner', 'admin'].includes(me?.user?.role) || !me?.user;
  const body = h('div', { class: 'card settings-card' }, spinner());
  const hours = businessHours({ canManage });
  root.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: t('settingsTitle') }), h('p', { class: 'muted', text: t('settingsSubtitle') }))),
    body, hours.card, notifications(), appearance());

  let alive = true;
  (async () => {
    let organization;
    try {
      ({ organization } = await api('GET', '/organization'));
    } catch (err) {
      toastError(err);
      body.replaceChildren(h('p', { class: 'muted', text: t('unexpectedError') }));
      return;
    }
    if (!alive) return;
    const name = h('input', { name: 'name', value: organization.name, required: true, maxlength: 100,
      autocomplete: 'organization', disabled: !canManage, 'aria-describedby': 'org-name-error' });
    const country = h('select', { name: 'defaultCountry', disabled: !canManage,
      'aria-describedby': 'org-country-hint org-country-error' }, ...countryOptions(organization.defaultCountry));
    const timezone = h('select', { name: 'timezone', disabled: !canManage, dir: 'ltr',
      'aria-describedby': 'org-timezone-hint org-timezone-error' }, ...zoneOptions(organization.timezone));
    const zoneHint = h('small', { class: 'field-hint', id: 'org-timezone-hint' });
    const showZoneHint = () => { zoneHint.textContent = t('timezoneHint', { now: nowIn(timezone.value) }); };
    showZoneHint();
    timezone.addEventListener('change', showZoneHint);
    const language = h('select', { name: 'defaultLanguage', disabled: !canManage, 'aria-describedby': 'org-language-hint' },
      h('option', { value: 'ar', text: 'العربية', selected: organization.defaultLanguage === 'ar' }),
      h('option', { value: 'en', text: 'English', selected: organization.defaultLanguage === 'en' }));
    const stopWords = tagEditor(organization.optOut.stopWords, { name: 'stopWord', placeholder: t('addWord') });
    const startWords = tagEditor(organization.optOut.startWords, { name: 'startWord', placeholder: t('addWord') });
    if (!canManage) for (const input of [...stopWords.el.querySelectorAll('input, button'), ...startWords.el.querySelectorAll('input, button')]) input.disabled = true;
    const save = h('button', { type: 'submit', class: 'btn btn-primary', disabled: !canManage }, t('save'));
    const form = h('form', { class: 'form', id: 'organization-form', novalidate: true },
      h('h2', { text: t('organizationSettings') }),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('organizationName') }), name,
        h('small', { class: 'field-error', id: 'org-name-error', 'data-error-for': 'name' })),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('defaultCountry') }), country,
        h('small', { class: 'field-hint', id: 'org-country-hint', text: t('defaultCountryHint') }),
        h('small', { class: 'field-error', id: 'org-country-error', 'data-error-for': 'defaultCountry' })),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('timezone') }), timezone, zoneHint,
        h('small', { class: 'field-error', id: 'org-timezone-error', 'data-error-for': 'timezone' })),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('defaultLanguage') }), language,
        h('small', { class: 'field-hint', id: 'org-language-hint', text: t('defaultLanguageHint') })),
      h('fieldset', { class: 'field form-section', id: 'opt-out-words' }, h('legend', { class: 'field-label', text: t('optOutWords') }),
        h('small', { class: 'field-hint', text: t('optOutWordsHint') }),
        h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('stopWords') }), stopWords.el,
          h('small', { class: 'field-error', 'data-error-for': 'stopWords' })),
        h('div', { class: 'field' }, h('span', { class: 'field-label', text: t('startWords') }), startWords.el,
          h('small', { class: 'field-error', 'data-error-for': 'startWords' }))),
      canManage ? null : h('p', { class: 'muted', role: 'note', text: t('managersOnly') }),
      h('div', { class: 'form-actions' }, save));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      save.disabled = true;
      try {
        const data = await api('PUT', '/organization', {
          json: { name: name.value.trim(), defaultCountry: country.value || null,
            timezone: timezone.value, defaultLanguage: language.value,
            optOut: { stopWords: stopWords.value(), startWords: startWords.value() } },
        });
        if (me) me.organization = data.organization;
        toast(t('saved'), 'success');
        hours.refresh();
      } catch (err) {
        if (!showFieldErrors(form, err)) toastError(err);
      } finally {
        save.disabled = false;
      }
    });
    body.replaceChildren(form);
  })();
  return () => { alive = false; hours.stop(); };
}

/** This browser's own choices: a sound and desktop notifications for new messages. */
function notifications() {
  const prefs = notifyPrefs();
  const sound = h('input', { type: 'checkbox', role: 'switch', name: 'sound', checked: prefs.sound,
    onchange: () => setNotifyPrefs({ sound: sound.checked }) });
  const desktop = h('input', { type: 'checkbox', role: 'switch', name: 'desktop', checked: prefs.desktop && window.Notification?.permission === 'granted' });
  const state = h('small', { class: 'muted', 'data-permission': window.Notification?.permission || 'unsupported' });
  const showState = (permission) => {
    state.dataset.permission = permission;
    state.textContent = permission === 'denied' ? t('notifyDenied') : permission === 'unsupported' ? t('notifyUnsupported') : '';
  };
  showState(window.Notification ? Notification.permission : 'unsupported');
  desktop.addEventListener('change', async () => {
    if (!desktop.checked) {
      setNotifyPrefs({ desktop: false });
      return;
    }
    const permission = await askDesktopPermission();
    desktop.checked = permission === 'granted';
    setNotifyPrefs({ desktop: desktop.checked });
    showState(permission);
  });
  const row = (input, title, hint) => h('label', { class: 'switch-field' }, input, h('span', { class: 'switch' }, h('i')),
    h('span', {}, h('b', { text: title }), h('small', { class: 'muted', text: hint })));
  return h('div', { class: 'card settings-card', id: 'notification-settings' },
    h('h2', { text: t('notificationsTitle') }),
    h('p', { class: 'muted', text: t('notificationsHint') }),
    row(sound, t('notifySound'), t('notifySoundHint')),
    row(desktop, t('notifyDesktop'), t('notifyDesktopHint')),
    state);
}

/** This browser's look: the system's light or dark, or one of them always. */
function appearance() {
  const current = getTheme();
  const option = (value, label) => h('label', { class: 'choice' },
    h('input', { type: 'radio', name: 'theme', value, checked: value === current, onchange: () => setTheme(value) }),
    h('span', { class: 'choice-body' }, h('span', { class: 'choice-title', text: label })));
  return h('div', { class: 'card settings-card', id: 'appearance-settings' },
    h('h2', { text: t('appearanceTitle') }),
    h('fieldset', { class: 'field' }, h('legend', { class: 'field-label', text: t('theme') }),
      h('div', { class: 'choices choices-3' },
        option('system', t('themeSystem')), option('light', t('themeLight')), option('dark', t('themeDark')))));
}
