/* Process instances the user may see, with where each stands (current steps, who holds them, when
   they are due, what it waits for, incidents), filtered and paged; links to start a process. */
(function () {
  'use strict';
  const { api, requireUser, hasRole, el, fmtDate, label, showMessage, debounce, live, t, errorText } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const PAGE = 25;
  const filters = document.getElementById('filters');
  const rows = document.getElementById('instance-rows');
  let definitions = [];
  let page = null;
  let offset = 0;

  /** The filters as query parameters; the end date is inclusive in the page, exclusive in the API. */
  function criteria() {
    const q = new URLSearchParams();
    const f = filters.elements;
    for (const name of ['status', 'process', 'stage']) if (f[name].value) q.set(name, f[name].value);
    for (const name of ['business_key', 'holder', 'version']) if (f[name].value.trim()) q.set(name, f[name].value.trim());
    if (f.started_after.value) q.set('started_after', f.started_after.value);
    if (f.started_before.value) {
      const end = new Date(f.started_before.value + 'T00:00:00Z');
      end.setUTCDate(end.getUTCDate() + 1);
      q.set('started_before', end.toISOString().slice(0, 10));
    }
    if (f.has_incident.checked) q.set('has_incident', 'true');
    if (f.overdue.checked) q.set('overdue', 'true');
    return q;
  }

  async function load() {
    const q = criteria();
    q.set('limit', String(PAGE));
    q.set('offset', String(offset));
    document.getElementById('btn-export').dataset.query = criteria().toString();
    try {
      page = await api('GET', '/api/v1/process-instances?' + q);
      render();
    } catch (e) {
      showMessage(document.getElementById('instances-error'), t('common.error', { message: errorText(e) }), 'error');
    }
  }

  /** The open steps with their holder (or whom they are offered to) and due date, then what it waits for. */
  function whereItStands(i) {
    const parts = i.current_steps.map((step) => el('li', { 'data-step': step.element_id },
      step.name || step.element_id, ' → ',
      step.assignee || [...step.candidate_users, ...step.candidate_groups.map((r) => label('role', r))].join(', ') || t('common.none'),
      step.due_at ? el('span', { class: 'muted', 'data-due': step.due_at }, ' · ' + t('instances.due', { due: fmtDate(step.due_at) })) : ''));
    for (const w of i.waiting) {
      const text = w.kind === 'timer' ? t('instances.waiting_timer', { due: fmtDate(w.due_at) })
        : w.approval ? t('instances.waiting_approval') : t('instances.waiting_message', { message: w.message });
      parts.push(el('li', { 'data-waiting': w.kind === 'timer' ? 'timer' : w.approval ? 'approval' : 'message', class: 'muted' }, text));
    }
    return el('ul', { class: 'plain-list' }, ...parts);
  }

  function render() {
    const links = document.getElementById('start-links');
    links.replaceChildren(...(hasRole('leader', 'admin') ? definitions.filter((d) => d.startable_by_hand) : []).map((d) =>
      el('a', { class: 'btn btn-primary', href: '/start/' + encodeURIComponent(d.key) }, t('instances.start', { name: d.name || d.key }))));
    const process = filters.elements.process;
    if (process.options.length === 1 && definitions.length) {
      process.append(...definitions.map((d) => el('option', { value: d.key }, d.name || d.key)));
    }
    if (!page) return;
    rows.replaceChildren(...page.items.map((i) => el('tr', { 'data-instance-id': i.id, 'data-overdue': String(i.overdue) },
      el('th', { scope: 'row' }, el('a', { href: '/instances/' + i.id }, (i.variables && i.variables.title) || i.process_key)),
      el('td', null, i.business_key || t('common.none')),
      el('td', null, String(i.version)),
      el('td', null, label('status', i.status), i.outcome ? ' · ' + label('outcome', i.outcome) : '',
        i.incident ? el('span', { class: 'badge badge-error', 'data-incident': i.incident.element_id || '', title: i.incident.message }, t('instances.incident')) : '',
        i.overdue ? el('span', { class: 'badge badge-warn', 'data-overdue-badge': '' }, t('instances.overdue_badge')) : ''),
      el('td', { class: 'current-steps' }, whereItStands(i)),
      el('td', null, i.started_by || t('common.none')),
      el('td', null, fmtDate(i.started_at)))));
    document.getElementById('instances-empty').hidden = page.items.length > 0;
    document.getElementById('page-info').textContent = page.total
      ? t('instances.page_info', { from: page.offset + 1, to: page.offset + page.items.length, total: page.total }) : '';
    document.getElementById('page-prev').disabled = page.offset === 0;
    document.getElementById('page-next').disabled = page.offset + page.items.length >= page.total;
  }

  /** A plain link would carry no bearer token: fetch the CSV, then hand the browser the file. */
  document.getElementById('btn-export').addEventListener('click', async () => {
    const current = window.Opsflow.session.get();
    const response = await fetch('/api/v1/process-instances/export?' + criteria(), { headers: { Authorization: 'Bearer ' + current.token } });
    if (!response.ok) {
      showMessage(document.getElementById('instances-error'), t('common.error', { message: (await response.json()).message }), 'error');
      return;
    }
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: 'process-instances.csv' });
    document.body.append(link);
    link.click();
    link.remove();
  });
  document.getElementById('page-prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  document.getElementById('page-next').addEventListener('click', () => { offset += PAGE; load(); });
  api('GET', '/api/v1/process-definitions').then((d) => { definitions = d; render(); }).catch(() => {});
  const reload = debounce(() => { offset = 0; load(); }, 250);
  filters.addEventListener('input', reload);
  filters.addEventListener('change', reload);
  filters.addEventListener('submit', (event) => { event.preventDefault(); reload(); });
  document.addEventListener('langchange', render);
  const refresh = debounce(load, 250);
  live((type) => { if (type === 'ready' || type.startsWith('instance_')) refresh(); });
  load();
})();
