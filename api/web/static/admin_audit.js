/* The audit log: filtered by actor, instance, event type and time, newest first, a page at a time. */
(function () {
  'use strict';
  const { api, el, fmtDate, label, t, debounce } = window.Opsflow;
  const { requireAdmin, fail } = window.OpsflowAdmin;
  if (!requireAdmin()) return;

  const PAGE = 50;
  const filters = document.getElementById('audit-filters');
  const rows = document.getElementById('audit-rows');
  const prev = document.getElementById('audit-prev');
  const next = document.getElementById('audit-next');
  let offset = 0;
  let page = null;

  document.getElementById('audit-types').replaceChildren(...[
    'instance_started', 'instance_completed', 'instance_cancelled', 'task_created', 'task_claimed',
    'task_unclaimed', 'task_assigned', 'task_completed', 'incident', 'definition_deployed', 'form_deployed',
    'task_delegated', 'task_resolved', 'user_created', 'user_updated', 'group_created', 'group_updated',
    'group_deleted', 'member_added', 'member_removed', 'sign_in_failed', 'sso_signed_in',
    'api_key_created', 'api_key_revoked', 'webhook_created', 'webhook_updated', 'webhook_deleted'
  ].map((type) => el('option', { value: type })));

  function query() {
    const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    for (const name of ['actor', 'instance', 'type']) {
      const value = filters.elements[name].value.trim();
      if (value) q.set(name, value);
    }
    for (const name of ['since', 'until']) {
      const value = filters.elements[name].value; // the browser's local time: sent as UTC
      if (value) q.set(name, new Date(value).toISOString());
    }
    return q;
  }

  async function load() {
    try {
      page = await api('GET', '/api/v1/audit?' + query());
      render();
    } catch (e) {
      fail(e);
    }
  }

  function details(entry) {
    return entry.details ? JSON.stringify(entry.details) : '';
  }

  function render() {
    if (!page) return;
    rows.replaceChildren(...page.items.map((entry) => el('tr', { 'data-audit-id': entry.id, 'data-type': entry.type },
      el('td', null, fmtDate(entry.at)),
      el('td', null, entry.actor || t('common.none')),
      el('td', null, label('event', entry.type)),
      el('td', null, entry.instance_id ? el('a', { href: '/instances/' + entry.instance_id }, entry.instance_id) : t('common.none')),
      el('td', null, el('code', null, details(entry))))));
    document.getElementById('audit-empty').hidden = page.items.length > 0;
    const to = page.offset + page.items.length;
    document.getElementById('audit-page').textContent =
      t('audit.page', { from: page.items.length ? page.offset + 1 : 0, to, total: page.total });
    prev.disabled = page.offset === 0;
    next.disabled = to >= page.total;
  }

  const reload = debounce(() => { offset = 0; load(); }, 250);
  filters.addEventListener('input', reload);
  filters.addEventListener('submit', (event) => { event.preventDefault(); reload(); });
  prev.addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  next.addEventListener('click', () => { offset += PAGE; load(); });
  document.addEventListener('langchange', render);
  load();
})();
