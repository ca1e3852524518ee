// Auto-replies: the rules, each said in a sentence (when it answers, with what, and otherwise
// what), switched on and off in place; an editor for a rule's trigger, answer, time and day
// conditions, away answer, priority and cooldown; and a box that asks the server which rule
// would answer a message, with what, or why none would.
import { locale, t } from '../i18n.js';
import { api } from '../api.js';
import { sessions as sharedSessions } from '../state.js';
import { replyEditor, replySummary } from '../automation_kit.js';
import { clearFieldErrors, confirmDialog, emptyState, formatDateTime, h, icon, openDialog, showFieldErrors, spinner, toast, toastError } from '../ui.js';

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MATCH_TYPES = ['contains', 'exact', 'startsWith', 'regex', 'any'];

/** A day's name in the UI's language: 2027-01-03 was a Sunday. */
function dayName(day, style = 'long') {
  return new Intl.DateTimeFormat(locale(), { weekday: style, timeZone: 'UTC' })
    .format(new Date(Date.UTC(2027, 0, 3 + DAYS.indexOf(day))));
}

/** When a rule listens: "contains «سعر»". */
function triggerPhrase(rule) {
  return rule.matchType === 'any' ? t('triggerAny') : t(`trigger_${rule.matchType}`, { trigger: rule.trigger });
}

/** When its own answer holds: days, hours and business hours, in words. */
export function conditionsPhrase(c) {
  const parts = [];
  if (c?.days?.length && c.days.length < 7) {
    parts.push(c.days.map((d) => dayName(d)).join(locale().startsWith('ar') ? '، ' : ', '));
  }
  if (c?.timeRange) {
    const overnight = c.timeRange.end <= c.timeRange.start;
    parts.push(t(overnight ? 'conditionRangeOvernight' : 'conditionRange', { start: c.timeRange.start, end: c.timeRange.end }));
  }
  if (c?.withinBusinessHours === true) parts.push(t('conditionWithinHours'));
  if (c?.withinBusinessHours === false) parts.push(t('conditionOutsideHours'));
  return parts.length ? parts.join(' · ') : t('conditionAlways');
}

function ruleCard(rule, { canManage, onEdit, onToggle, onDelete }) {
  const active = h('input', { type: 'checkbox', role: 'switch', checked: rule.isActive, disabled: !canManage, 'data-action': 'toggle-rule',
    'aria-label': t('ruleActive'), onchange: (e) => onToggle(rule, e.currentTarget) });
  return h('article', { class: `card rule-card${rule.isActive ? '' : ' is-off'}`, 'data-rule': rule.id, 'data-name': rule.name },
    h('header', { class: 'rule-head' },
      h('div', { class: 'rule-title' },
        h('h3', { dir: 'auto', text: rule.name }),
        h('span', { class: 'badge', title: t('priorityHint') }, t('priorityBadge', { n: rule.priority })),
        rule.sessionName ? h('span', { class: 'chip chip-session', dir: 'ltr', text: rule.sessionName }) : null),
      h('label', { class: 'switch-field compact' }, active, h('span', { class: 'switch' }, h('i')),
        h('span', { class: 'visually-hidden', text: t('ruleActive') }))),
    h('dl', { class: 'rule-summary' },
      h('dt', { text: t('ruleWhen') }), h('dd', { dir: 'auto', text: triggerPhrase(rule) }),
      h('dt', { text: t('ruleConditions') }), h('dd', { 'data-conditions': '', text: conditionsPhrase(rule.conditions) }),
      h('dt', { text: t('ruleAnswers') }), h('dd', { class: 'rule-reply', dir: 'auto', text: replySummary(rule.response) }),
      rule.awayResponse ? [h('dt', { text: t('ruleOtherwise') }), h('dd', { class: 'rule-reply', dir: 'auto', text: replySummary(rule.awayResponse) })] : null,
      h('dt', { text: t('ruleCooldown') }), h('dd', { text: rule.cooldownMinutes ? t('cooldownMinutes', { n: rule.cooldownMinutes }) : t('cooldownNone') })),
    canManage ? h('footer', { class: 'card-actions' },
      h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-action': 'edit-rule', onclick: () => onEdit(rule) }, icon('edit', { size: 14 }), h('span', { text: t('edit') })),
      h('button', { type: 'button', class: 'btn btn-sm btn-danger-ghost', 'data-action': 'delete-rule', onclick: () => onDelete(rule) }, t('delete'))) : null);
}

/** The rule editor; `onSaved(rule)` after the server accepted it. */
function ruleDialog(rule, templates, onSaved) {
  const r = rule || { matchType: 'contains', trigger: '', response: { type: 'text', text: '' }, conditions: {}, priority: 0, cooldownMinutes: 60, isActive: true };
  openDialog({
    title: rule ? t('editRule') : t('newRule'),
    cls: 'dialog-wide',
    build: (close) => {
      const name = h('input', { name: 'name', dir: 'auto', required: true, maxlength: 100, value: r.name || '' });
      const matchType = h('select', { name: 'matchType' },
        MATCH_TYPES.map((m) => h('option', { value: m, text: t(`match_${m}`), selected: r.matchType === m })));
      const trigger = h('input', { name: 'trigger', dir: 'auto', maxlength: 500, value: r.trigger || '' });
      const triggerField = h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('trigger') }), trigger,
        h('small', { class: 'field-hint', text: t('triggerHint') }), h('small', { class: 'field-error', 'data-error-for': 'trigger' }));
      const showTrigger = () => { triggerField.hidden = matchType.value === 'any'; };
      matchType.addEventListener('change', showTrigger);
      showTrigger();
      const response = replyEditor({ prefix: 'response', reply: r.response, templates });
      const c = r.conditions || {};
      const ranged = h('input', { type: 'checkbox', name: 'useRange', checked: !!c.timeRange });
      const start = h('input', { type: 'time', name: 'conditions.timeRange.start', value: c.timeRange?.start || '09:00', 'aria-label': t('periodStart') });
      const end = h('input', { type: 'time', name: 'conditions.timeRange.end', value: c.timeRange?.end || '17:00', 'aria-label': t('periodEnd') });
      const overnight = h('small', { class: 'hours-overnight muted' });
      const showRange = () => {
        start.disabled = end.disabled = !ranged.checked;
        overnight.textContent = ranged.checked && end.value <= start.value ? t('nextDay') : '';
      };
      for (const el of [ranged, start, end]) el.addEventListener('input', showRange);
      showRange();
      const days = DAYS.map((d) => h('label', { class: 'day-check' },
        h('input', { type: 'checkbox', name: 'conditions.days', value: d, checked: (c.days || []).includes(d) }),
        h('span', { text: dayName(d, 'short') })));
      const hours = h('select', { name: 'conditions.withinBusinessHours' },
        h('option', { value: '', text: t('hoursAny'), selected: c.withinBusinessHours == null }),
        h('option', { value: 'true', text: t('conditionWithinHours'), selected: c.withinBusinessHours === true }),
        h('option', { value: 'false', text: t('conditionOutsideHours'), selected: c.withinBusinessHours === false }));
      const awayOn = h('input', { type: 'checkbox', name: 'useAway', checked: !!r.awayResponse });
      const away = replyEditor({ prefix: 'awayResponse', reply: r.awayResponse || { type: 'text', text: '' }, templates });
      const showAway = () => { away.el.hidden = !awayOn.checked; };
      awayOn.addEventListener('change', showAway);
      showAway();
      const session = h('select', { name: 'sessionName' }, h('option', { value: '', text: t('allSessions') }),
        (sharedSessions.current || []).map((s) => h('option', { value: s.sessionName, text: s.sessionName, selected: r.sessionName === s.sessionName })));
      if (r.sessionName && !(sharedSessions.current || []).some((s) => s.sessionName === r.sessionName)) {
        session.append(h('option', { value: r.sessionName, text: r.sessionName, selected: true }));
      }
      const priority = h('input', { type: 'number', name: 'priority', min: 0, max: 1000, value: String(r.priority ?? 0), dir: 'ltr' });
      const cooldown = h('input', { type: 'number', name: 'cooldownMinutes', min: 0, max: 43200, value: String(r.cooldownMinutes ?? 60), dir: 'ltr' });
      const active = h('input', { type: 'checkbox', role: 'switch', name: 'isActive', checked: r.isActive !== false });
      const save = h('button', { type: 'submit', class: 'btn btn-primary' }, t('save'));
      const form = h('form', { class: 'form rule-form', id: 'rule-form', novalidate: true },
        h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('ruleName') }), name, h('small', { class: 'field-error', 'data-error-for': 'name' })),
        h('div', { class: 'form-row' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('matchType') }), matchType, h('small', { class: 'field-error', 'data-error-for': 'matchType' })),
          triggerField),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('ruleAnswers') }), response.el),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('ruleConditions') }),
          h('small', { class: 'field-hint', text: t('conditionsHint') }),
          h('label', { class: 'check-line' }, ranged, h('span', { text: t('onlyBetween') })),
          h('div', { class: 'hours-period' }, start, h('span', { 'aria-hidden': 'true', text: '–' }), end, overnight),
          h('small', { class: 'field-error', 'data-error-for': 'conditions.timeRange' }),
          h('div', { class: 'day-checks', role: 'group', 'aria-label': t('onlyOnDays') }, days),
          h('small', { class: 'field-hint', text: t('noDaysMeansEvery') }),
          h('small', { class: 'field-error', 'data-error-for': 'conditions.days' }),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('businessHours') }), hours)),
        h('fieldset', { class: 'field form-section' }, h('legend', { class: 'field-label', text: t('ruleOtherwise') }),
          h('label', { class: 'check-line' }, awayOn, h('span', { text: t('useAway') })), away.el),
        h('div', { class: 'form-row form-row-3' },
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('session') }), session, h('small', { class: 'field-error', 'data-error-for': 'sessionName' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('priority') }), priority, h('small', { class: 'field-hint', text: t('priorityHint') }), h('small', { class: 'field-error', 'data-error-for': 'priority' })),
          h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('cooldown') }), cooldown, h('small', { class: 'field-hint', text: t('cooldownHint') }), h('small', { class: 'field-error', 'data-error-for': 'cooldownMinutes' }))),
        h('label', { class: 'switch-field' }, active, h('span', { class: 'switch' }, h('i')), h('span', {}, h('b', { text: t('ruleActive') }))),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: close }, t('cancel')), save));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearFieldErrors(form);
        save.disabled = true;
        const chosenDays = days.map((d) => d.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        const body = {
          name: name.value.trim(),
          matchType: matchType.value,
          trigger: matchType.value === 'any' ? '' : trigger.value,
          response: response.value(),
          conditions: {
            timeRange: ranged.checked ? { start: start.value, end: end.value } : undefined,
            days: chosenDays,
            withinBusinessHours: hours.value === '' ? undefined : hours.value === 'true',
          },
          awayResponse: awayOn.checked ? away.value() : null,
          sessionName: session.value || null,
          priority: Number(priority.value) || 0,
          cooldownMinutes: Number(cooldown.value) || 0,
          isActive: active.checked,
        };
        try {
          const data = rule
            ? await api('PUT', `/whatsapp/auto-replies/${encodeURIComponent(rule.id)}`, { json: body })
            : await api('POST', '/whatsapp/auto-replies', { json: body });
          toast(t('saved'), 'success');
          close();
          onSaved(data.autoReply);
        } catch (err) {
          if (!showFieldErrors(form, err)) toastError(err);
          save.disabled = false;
        }
      });
      return form;
    },
  });
}

/** The "test a message" box: which rule would answer, with what, or why none would. */
function testBox() {
  const text = h('textarea', { name: 'testText', rows: 2, dir: 'auto', maxlength: 4096, placeholder: t('testTextPlaceholder') });
  const from = h('input', { name: 'testFrom', dir: 'ltr', inputmode: 'tel', placeholder: '+966 55 111 2233' });
  const at = h('input', { name: 'testAt', type: 'datetime-local' });
  const result = h('div', { class: 'test-result', id: 'auto-reply-test-result', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('zap', { size: 16 }), h('span', { text: t('testRun') }));
  const form = h('form', { class: 'form', id: 'auto-reply-test', novalidate: true },
    h('h2', { text: t('testTitle') }),
    h('p', { class: 'muted', text: t('testHint') }),
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('testText') }), text),
    h('div', { class: 'form-row' },
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('testFrom') }), from, h('small', { class: 'field-error', 'data-error-for': 'from' })),
      h('label', { class: 'field' }, h('span', { class: 'field-label', text: t('testAt') }), at)),
    h('div', { class: 'form-actions' }, run),
    result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    run.disabled = true;
    try {
      const data = await api('POST', '/whatsapp/auto-replies/test', { json: {
        text: text.value, from: from.value.trim() || undefined, at: at.value ? new Date(at.value).toISOString() : undefined,
      } });
      result.dataset.reason = data.reason;
      result.dataset.rule = data.ruleId || '';
      result.replaceChildren(
        h('p', { class: 'test-verdict' }, icon(data.answers ? 'check' : 'alert', { size: 16 }),
          h('span', { text: data.answers ? (data.ruleName ? t(data.away ? 'testAnswersAway' : 'testAnswers', { name: data.ruleName }) : t(`reason_${data.reason}`)) : t(`reason_${data.reason}`) })),
        data.text ? h('div', { class: 'msg-row out preview-row' }, h('div', { class: 'bubble', 'data-direction': 'outgoing' }, h('p', { class: 'msg-text', dir: 'auto', text: data.text }))) : null,
        h('p', { class: 'muted test-when', text: t('testJudgedAt', { time: data.localTime.replace('T', ' '), open: data.withinBusinessHours ? t('conditionWithinHours') : t('conditionOutsideHours') }) }),
        data.rules.length ? h('ol', { class: 'test-verdicts' }, data.rules.map((r) => h('li', { 'data-verdict': r.verdict },
          h('b', { dir: 'auto', text: r.name }), h('span', { class: 'muted', text: r.cooldownUntil ? t('verdict_cooldown_until', { when: formatDateTime(r.cooldownUntil) }) : t(`verdict_${r.verdict}`) })))) : null);
    } catch (err) {
      if (!showFieldErrors(form, err)) toastError(err);
    } finally {
      run.disabled = false;
    }
  });
  return h('div', { class: 'card settings-card test-card' }, form);
}

export function mount(root, { canManage }) {
  const list = h('div', { class: 'rule-list', id: 'rule-list' }, spinner());
  const newRule = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'new-rule', hidden: !canManage },
    icon('plus', { size: 16 }), h('span', { text: t('newRule') }));
  root.append(
    h('div', { class: 'section-head' }, h('p', { class: 'muted', text: t('autoRepliesHint') }), newRule),
    h('div', { class: 'automation-columns' }, list, testBox()));
  let rules = [];
  let templates = [];
  let alive = true;

  const draw = () => {
    if (!rules.length) {
      list.replaceChildren(emptyState('zap', t('noRules'), t('noRulesHint')));
      return;
    }
    list.replaceChildren(...rules.map((rule) => ruleCard(rule, {
      canManage,
      onEdit: (r) => ruleDialog(r, templates, saved),
      onToggle: async (r, input) => {
        input.disabled = true;
        try {
          const data = await api('PUT', `/whatsapp/auto-replies/${encodeURIComponent(r.id)}`, { json: { isActive: input.checked } });
          Object.assign(r, data.autoReply);
          toast(input.checked ? t('ruleOn') : t('ruleOff'), 'success');
          draw();
        } catch (err) {
          input.checked = !input.checked;
          toastError(err);
        } finally {
          input.disabled = false;
        }
      },
      onDelete: async (r) => {
        if (!(await confirmDialog({ title: t('deleteRule'), text: t('deleteRuleText', { name: r.name }), action: t('delete'), danger: true }))) return;
        try {
          await api('DELETE', `/whatsapp/auto-replies/${encodeURIComponent(r.id)}`);
          rules = rules.filter((x) => x.id !== r.id);
          draw();
        } catch (err) {
          toastError(err);
        }
      },
    })));
  };
  const load = async () => {
    try {
      const [r, tpl] = await Promise.all([
        api('GET', '/whatsapp/auto-replies', { query: { limit: 100 } }),
        api('GET', '/whatsapp/templates', { query: { limit: 100 } }),
      ]);
      if (!alive) return;
      rules = r.autoReplies;
      templates = tpl.templates;
      draw();
    } catch (err) {
      toastError(err);
      list.replaceChildren(emptyState('alert', err.message, null));
    }
  };
  const saved = () => load();
  newRule.addEventListener('click', () => ruleDialog(null, templates, saved));
  sharedSessions.refresh().catch(() => {});
  load();
  return () => { alive = false; };
}
