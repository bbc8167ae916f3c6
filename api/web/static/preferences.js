/* A person's own notification preferences: address, language, events, quiet hours, daily digest. */
(function () {
  'use strict';
  const { api, requireUser, el, showMessage, t, errorText } = window.Opsflow;
  if (!requireUser()) return;
  const EVENTS = ['task_offered', 'task_assigned', 'task_overdue', 'task_escalated', 'instance_completed', 'incident'];
  const form = document.getElementById('prefs-form');
  const message = document.getElementById('prefs-message');
  const events = document.getElementById('p-events');
  let current = null;

  function renderEvents() {
    const checked = new Set(current ? current.event_types : EVENTS);
    events.querySelectorAll('label').forEach((node) => node.remove());
    events.append(...EVENTS.map((type) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'event', value: type, checked: checked.has(type) }), ' ', t('notify.' + type))));
  }

  function fill(prefs) {
    current = prefs;
    form.elements.email.value = prefs.email || '';
    form.elements.language.value = prefs.language;
    form.elements.timezone.value = prefs.timezone;
    form.elements.quiet_start.value = prefs.quiet_start || '';
    form.elements.quiet_end.value = prefs.quiet_end || '';
    form.elements.digest.checked = prefs.digest;
    form.elements.digest_at.value = prefs.digest_at;
    renderEvents();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      email: f.email.value.trim() || null,
      language: f.language.value,
      event_types: [...form.querySelectorAll('input[name=event]:checked')].map((box) => box.value),
      timezone: f.timezone.value.trim(),
      quiet_start: f.quiet_start.value || null,
      quiet_end: f.quiet_end.value || null,
      digest: f.digest.checked,
      digest_at: f.digest_at.value || '09:00'
    };
    try {
      fill(await api('PATCH', '/api/v1/notification-preferences/me', body));
      showMessage(message, t('prefs.saved'), 'success');
    } catch (e) {
      const where = (e.problems || []).map((p) => (p.path ? p.path + ': ' : '') + p.message).join('; ');
      showMessage(message, errorText(e) + (where ? ' — ' + where : ''), 'error');
    }
  });
  document.addEventListener('langchange', renderEvents);
  api('GET', '/api/v1/notification-preferences/me').then(fill)
    .catch((e) => showMessage(message, errorText(e), 'error'));
})();
