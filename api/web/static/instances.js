/* Process instances the user may see, with links to start a process (leaders, admins). */
(function () {
  'use strict';
  const { api, requireUser, hasRole, el, fmtDate, label, showMessage, debounce, live, t, errorText } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const filters = document.getElementById('filters');
  const rows = document.getElementById('instance-rows');
  let definitions = [];
  let page = null;

  async function load() {
    const q = new URLSearchParams({ limit: '200' });
    if (filters.elements.status.value) q.set('status', filters.elements.status.value);
    if (filters.elements.business_key.value.trim()) q.set('business_key', filters.elements.business_key.value.trim());
    try {
      page = await api('GET', '/api/v1/process-instances?' + q);
      render();
    } catch (e) {
      showMessage(document.getElementById('instances-error'), t('common.error', { message: errorText(e) }), 'error');
    }
  }

  function render() {
    const links = document.getElementById('start-links');
    links.replaceChildren(...(hasRole('leader', 'admin') ? definitions.filter((d) => d.startable_by_hand) : []).map((d) =>
      el('a', { class: 'btn btn-primary', href: '/start/' + encodeURIComponent(d.key) }, t('instances.start', { name: d.name || d.key }))));
    if (!page) return;
    rows.replaceChildren(...page.items.map((i) => el('tr', { 'data-instance-id': i.id },
      el('th', { scope: 'row' }, el('a', { href: '/instances/' + i.id }, (i.variables && i.variables.title) || i.process_key)),
      el('td', null, i.business_key || t('common.none')),
      el('td', null, String(i.version)),
      el('td', null, label('status', i.status), i.outcome ? ' · ' + label('outcome', i.outcome) : ''),
      el('td', null, i.started_by || t('common.none')),
      el('td', null, fmtDate(i.started_at)))));
    document.getElementById('instances-empty').hidden = page.items.length > 0;
  }

  api('GET', '/api/v1/process-definitions').then((d) => { definitions = d; render(); }).catch(() => {});
  const reload = debounce(load, 250);
  filters.addEventListener('input', reload);
  filters.addEventListener('submit', (event) => { event.preventDefault(); reload(); });
  document.addEventListener('langchange', render);
  live((type) => { if (type === 'ready' || type.startsWith('instance_')) reload(); });
  load();
})();
