/* Inbox: "my tasks" and "offered to me" with counts, filters and sorting; refreshes itself when a
   task arrives, is claimed or is completed (server-sent events). */
(function () {
  'use strict';
  const { api, requireUser, hasRole, el, fmtDate, fmtDue, label, showMessage, announce, debounce, live, t, errorText } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const STAGES = ['kickoff', 'diagnosis', 'design', 'execution', 'evaluation', 'rollout'];
  const filters = document.getElementById('filters');
  const rows = document.getElementById('task-rows');
  const empty = document.getElementById('inbox-empty');
  const error = document.getElementById('inbox-error');
  const tabs = [...document.querySelectorAll('[role=tab]')];
  const params = new URLSearchParams(location.search);
  let scope = params.get('scope') === 'offered' ? 'offered' : 'mine';
  // Without a tab in the address, the inbox opens where the work is: my tasks, else the offered ones.
  let chooseScope = !params.get('scope');
  let last = { mine: null, offered: null };
  let rendered = '';

  document.getElementById('start-link').hidden = !hasRole('leader', 'admin');

  // filters from the address bar
  const stageSelect = filters.elements.stage;
  for (const stage of STAGES) stageSelect.append(el('option', { value: stage, dataset: { i18n: 'stage.' + stage } }, label('stage', stage)));
  for (const name of ['process', 'stage', 'business_key', 'sort']) {
    if (params.get(name)) filters.elements[name].value = params.get(name);
  }
  filters.elements.overdue.checked = params.get('overdue') === 'true';

  api('GET', '/api/v1/process-definitions').then((definitions) => {
    const select = filters.elements.process;
    for (const d of definitions) select.append(el('option', { value: d.key }, d.name || d.key));
    if (params.get('process')) select.value = params.get('process');
  }).catch(() => {});

  function query(forScope) {
    const q = new URLSearchParams({ scope: forScope, limit: '200' });
    for (const name of ['process', 'stage', 'business_key', 'sort']) {
      const value = filters.elements[name].value.trim();
      if (value) q.set(name, value);
    }
    if (filters.elements.overdue.checked) q.set('overdue', 'true');
    return q;
  }

  function syncAddress() {
    const q = query(scope);
    q.delete('limit');
    if (q.get('scope') === 'mine') q.delete('scope');
    if (q.get('sort') === 'created') q.delete('sort');
    history.replaceState(null, '', '/inbox' + (q.toString() ? '?' + q : ''));
  }

  async function load(reason) {
    try {
      const [mine, offered] = await Promise.all([
        api('GET', '/api/v1/tasks?' + query('mine')),
        api('GET', '/api/v1/tasks?' + query('offered'))
      ]);
      const changed = JSON.stringify([mine, offered]) !== JSON.stringify([last.mine, last.offered]);
      last = { mine, offered };
      if (chooseScope) {
        chooseScope = false;
        if (!mine.total && offered.total) scope = 'offered';
      }
      showMessage(error, '');
      render();
      if (reason === 'live' && changed) announce(t('inbox.updated', { mine: mine.total, offered: offered.total }));
    } catch (e) {
      showMessage(error, t('common.error', { message: errorText(e) }), 'error');
    }
  }

  function render() {
    if (!last.mine) return;
    document.getElementById('count-mine').textContent = last.mine.total;
    document.getElementById('count-offered').textContent = last.offered.total;
    for (const tab of tabs) {
      const selected = tab.dataset.scope === scope;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    document.getElementById('panel-tasks').setAttribute('aria-labelledby', 'tab-' + scope);
    const page = last[scope];
    const signature = scope + JSON.stringify(page.items) + window.Opsflow.lang();
    if (signature === rendered) return;
    rendered = signature;
    rows.replaceChildren(...page.items.map(row));
    empty.hidden = page.items.length > 0;
    document.body.dataset.inboxLoaded = String(Date.now());
  }

  function row(task) {
    const overdue = task.due_at && new Date(task.due_at) < new Date();
    const who = task.assignee || [...task.candidate_users, ...task.candidate_groups.map((r) => label('role', r))].join(', ');
    const actions = [el('a', { class: 'btn btn-small', href: '/tasks/' + task.id }, t('common.open'))];
    if (!task.assignee) {
      actions.push(el('button', {
        type: 'button', class: 'btn btn-small', 'data-claim': task.id,
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            await api('POST', '/api/v1/tasks/' + task.id + '/claim');
            location.assign('/tasks/' + task.id);
          } catch (e) {
            showMessage(error, t('common.error', { message: errorText(e) }), 'error');
            load();
          }
        }
      }, t('inbox.claim')));
    }
    return el('tr', { 'data-task-id': task.id, 'data-element-id': task.element_id },
      el('th', { scope: 'row' }, el('a', { href: '/tasks/' + task.id }, task.name || task.element_id)),
      el('td', null, task.business_key || t('common.none')),
      el('td', null, label('stage', task.stage)),
      el('td', null, task.process_key),
      el('td', null, el('time', { datetime: task.created_at }, fmtDate(task.created_at))),
      el('td', null, task.due_at ? el('time', { datetime: task.due_at }, fmtDue(task.due_at)) : t('common.none'),
        overdue ? el('span', { class: 'badge badge-warn' }, t('inbox.overdue_badge')) : null),
      el('td', null, who || t('common.none')),
      el('td', { class: 'row-actions' }, actions));
  }

  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => { scope = tab.dataset.scope; syncAddress(); render(); });
    tab.addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const next = tabs[(i + (event.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      next.click();
    });
  });
  const reload = debounce(() => { syncAddress(); load(); }, 250);
  filters.addEventListener('input', reload);
  filters.addEventListener('change', reload);
  filters.addEventListener('submit', (event) => { event.preventDefault(); reload(); });
  document.addEventListener('langchange', () => { rendered = ''; render(); });

  const refresh = debounce(() => load('live'), 150);
  load();
  live((type) => {
    if (type === 'ready' || type.startsWith('task_') || type.startsWith('instance_')) refresh();
  });
})();
