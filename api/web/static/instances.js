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
  // --- version migration (admins): check the filtered instances, then move them in a batch ---------
  const $ = (id) => document.getElementById(id);
  let versionsOf = null;

  async function renderMigration() {
    const key = filters.elements.process.value;
    $('migration-section').hidden = !(hasRole('admin') && key);
    if ($('migration-section').hidden) return;
    if (!versionsOf || versionsOf.key !== key) {
      versionsOf = { key, versions: [] };
      try {
        versionsOf.versions = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(key)}/versions`);
      } catch (e) { /* none offered */ }
      $('mig-version').replaceChildren(...versionsOf.versions.slice().sort((a, b) => b.version - a.version)
        .map((v) => el('option', { value: String(v.version) }, t('common.version', { version: v.version }))));
      $('mig-results').hidden = true;
      $('btn-mig-start').disabled = true;
    }
  }

  function migrationRequest() {
    const text = $('mig-mapping').value.trim();
    let mapping = {};
    if (text) {
      try { mapping = JSON.parse(text); } catch (e) { mapping = null; }
      if (!mapping || typeof mapping !== 'object' || Array.isArray(mapping)) {
        $('mig-mapping').setAttribute('aria-invalid', 'true');
        showMessage($('mig-message'), t('console.bad_json'), 'error');
        return null;
      }
    }
    $('mig-mapping').removeAttribute('aria-invalid');
    const q = criteria();
    const where = {};
    for (const name of ['version', 'business_key', 'stage', 'holder', 'started_after', 'started_before']) {
      if (q.get(name)) where[name] = name === 'version' ? Number(q.get(name)) : q.get(name);
    }
    if (['running', 'suspended'].includes(q.get('status'))) where.status = q.get('status');
    if (q.get('overdue')) where.overdue = true;
    return { process_key: q.get('process'), target_version: Number($('mig-version').value), mapping, where, reason: $('mig-reason').value.trim() };
  }

  $('btn-mig-check').addEventListener('click', async () => {
    const body = migrationRequest();
    if (!body) return;
    try {
      const checks = await api('POST', '/api/v1/migrations/check', body);
      $('mig-rows').replaceChildren(...checks.map((c) => el('tr', { 'data-instance-id': c.instance_id, 'data-can-move': String(c.can_move) },
        el('td', null, el('a', { href: '/instances/' + c.instance_id }, c.business_key || c.instance_id.slice(0, 8))),
        el('td', null, String(c.version)),
        el('td', null, c.can_move ? t('migration.can_move') : c.reasons.join('; ')))));
      $('mig-results').hidden = checks.length === 0;
      const movable = checks.filter((c) => c.can_move).length;
      showMessage($('mig-message'), t('migration.checked', { movable, total: checks.length }), 'info');
      $('btn-mig-start').disabled = movable === 0;
    } catch (e) {
      showMessage($('mig-message'), t('common.error', { message: errorText(e) }), 'error');
    }
  });

  $('btn-mig-start').addEventListener('click', async () => {
    const body = migrationRequest();
    if (!body) return;
    $('btn-mig-start').disabled = true;
    try {
      let batch = await api('POST', '/api/v1/migrations', body);
      while (!batch.finished_at) {
        showMessage($('mig-message'), t('migration.progress', { migrated: batch.migrated.length, total: batch.total }), 'info');
        await new Promise((resolve) => setTimeout(resolve, 500));
        batch = await api('GET', '/api/v1/migrations/' + batch.id);
      }
      const skipped = Object.keys(batch.skipped).length;
      const done = $('mig-message');
      showMessage(done, t('migration.done', { migrated: batch.migrated.length, total: batch.total, skipped }), 'success');
      done.dataset.batch = batch.id;
      load();
    } catch (e) {
      showMessage($('mig-message'), t('common.error', { message: errorText(e) }), 'error');
    }
  });
  filters.elements.process.addEventListener('change', renderMigration);

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
