/* Admins' notification channels: the SMTP server and chat robots, what each sends, its delivery log.
   Secrets are typed in here and never shown again (the API only says which are set). */
(function () {
  'use strict';
  const { api, requireUser, el, fmtDate, showMessage, t, errorText } = window.Opsflow;
  if (!requireUser()) return;
  const EVENTS = ['task_offered', 'task_assigned', 'task_overdue', 'task_escalated', 'instance_completed', 'incident'];
  const STYLES = { wecom: ['markdown', 'text'], dingtalk: ['markdown', 'text'], feishu: ['card', 'text'] };
  const form = document.getElementById('channel-form');
  const message = document.getElementById('channels-message');
  let channels = [];

  function problemsText(e) {
    const where = (e.problems || []).map((p) => (p.path ? p.path + ': ' : '') + p.message).join('; ');
    return errorText(e) + (where ? ' — ' + where : '');
  }

  function renderEvents() {
    const box = document.getElementById('c-events');
    const checked = new Set([...box.querySelectorAll('input:checked')].map((i) => i.value));
    box.querySelectorAll('label').forEach((n) => n.remove());
    box.append(...EVENTS.map((type) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'event', value: type, checked: checked.size ? checked.has(type) : true }),
      ' ', t('notify.' + type))));
  }

  function showKind() {
    const kind = form.elements.kind.value;
    form.querySelectorAll('[data-for]').forEach((node) => { node.hidden = !node.dataset.for.split(' ').includes(kind); });
    const style = form.elements.style;
    style.replaceChildren(...(STYLES[kind] || []).map((s) => el('option', { value: s }, s)));
  }

  function render() {
    const rows = document.getElementById('channel-rows');
    rows.replaceChildren(...channels.map((c) => el('tr', { 'data-channel-id': c.id },
      el('th', { scope: 'row' }, c.name),
      el('td', null, t('kind.' + c.kind)),
      el('td', null, c.kind === 'smtp' ? `${c.settings.host}:${c.settings.port} · ${c.settings.sender}` : c.url),
      el('td', { class: 'secrets-set' }, c.secrets_set.join(', ') || '—'),
      el('td', null, t(c.active ? 'common.yes' : 'common.no')),
      el('td', null,
        el('button', { type: 'button', class: 'btn', 'data-action': 'log', onclick: () => showLog(c) }, t('channels.log')), ' ',
        el('button', { type: 'button', class: 'btn', 'data-action': 'delete', onclick: () => remove(c) }, t('channels.delete'))))));
    document.getElementById('channels-empty').hidden = channels.length > 0;
  }

  async function load() {
    try {
      channels = await api('GET', '/api/v1/notification-channels');
      render();
    } catch (e) {
      showMessage(message, errorText(e), 'error');
    }
  }

  async function showLog(channel) {
    const page = await api('GET', `/api/v1/notification-channels/${channel.id}/deliveries?limit=100`);
    document.getElementById('log').hidden = false;
    document.getElementById('log-title').textContent = t('channels.log_title', { name: channel.name });
    document.getElementById('log-rows').replaceChildren(...page.items.map((d) => el('tr', { 'data-delivered': String(d.delivered) },
      el('td', null, fmtDate(d.at)),
      el('td', null, String(d.notification_count)),
      el('td', null, d.recipients.join(', ')),
      el('td', null, d.delivered ? t('channels.delivered') : t('channels.failed', { error: d.error || '' })))));
    document.getElementById('log-empty').hidden = page.items.length > 0;
  }

  async function remove(channel) {
    try {
      await api('DELETE', `/api/v1/notification-channels/${channel.id}`);
      document.getElementById('log').hidden = true;
      await load();
    } catch (e) {
      showMessage(message, errorText(e), 'error');
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = form.elements;
    const kind = f.kind.value;
    const body = {
      name: f.name.value.trim(), kind,
      event_types: [...form.querySelectorAll('input[name=event]:checked')].map((i) => i.value)
    };
    if (kind === 'smtp') {
      body.settings = { host: f.host.value.trim(), port: Number(f.port.value), security: f.security.value,
        sender: f.sender.value.trim(), username: f.username.value.trim() || null };
      body.secrets = f.password.value ? { password: f.password.value } : {};
    } else {
      body.settings = { style: f.style.value, language: f.language.value, rate_per_minute: Number(f.rate.value) };
      body.secrets = { url: f.url.value.trim() };
      if (kind !== 'wecom' && f.secret.value) body.secrets.secret = f.secret.value;
    }
    try {
      await api('POST', '/api/v1/notification-channels', body);
      form.reset();
      showKind();
      showMessage(message, t('channels.created'), 'success');
      await load();
    } catch (e) {
      showMessage(message, problemsText(e), 'error');
    }
  });
  form.elements.kind.addEventListener('change', showKind);
  document.addEventListener('langchange', () => { renderEvents(); render(); });
  showKind();
  renderEvents();
  load();
})();
