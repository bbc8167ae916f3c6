/* Task page: the task's form (form-js viewer), claim / unclaim / save draft / complete, the server's
   validation problems at their fields, and the instance's context (trigger, goal, earlier steps). */
(function () {
  'use strict';
  const { api, requireUser, el, fmtDate, fmtDue, label, showMessage, live, t, errorText, announce } = window.Opsflow;
  const { createForm, formData, showProblems, clearProblems } = window.OpsflowForms;
  const user = requireUser();
  if (!user) return;

  const taskId = document.getElementById('task-root').dataset.taskId;
  const $ = (id) => document.getElementById(id);
  const container = $('form');
  const problems = $('form-problems');
  const notice = $('task-notice');
  let detail = null;
  let form = null;
  let closed = false;  // completed here, or taken away by someone else
  const schemas = {};

  /** Who holds a task: its assignee, else the people or roles it is offered to. */
  const holderOf = (task) => task.assignee ||
    [...task.candidate_users, ...task.candidate_groups.map((r) => label('role', r))].join(', ') || t('common.none');

  function state() {
    const task = detail.task;
    // A teammate's task of the same instance: readable, not theirs to work on.
    if (detail.read_only) return { mine: false, offered: false, other: holderOf(task), readOnly: true };
    const mine = task.assignee === user.name;
    const candidate = task.candidate_users.includes(user.name) ||
      task.candidate_groups.some((r) => user.roles.includes(r)) || user.roles.includes('admin');
    return { mine, offered: !task.assignee && candidate, other: task.assignee && !mine ? task.assignee : null };
  }

  async function load() {
    try {
      detail = await api('GET', '/api/v1/tasks/' + taskId);
    } catch (e) {
      $('task-loading').hidden = true;
      showMessage($('task-error'), e.status === 409 ? t('task.not_open') : t('common.error', { message: errorText(e) }), 'error');
      return;
    }
    $('task-loading').hidden = true;
    $('task-view').hidden = false;
    renderHeader();
    await renderForm(detail.data);
    renderActions();
    loadContext().catch((e) => {
      $('context').replaceChildren(el('p', { class: 'alert alert-error' }, t('common.error', { message: errorText(e) })));
    });
  }

  function renderHeader() {
    const { task, instance } = detail;
    $('task-title').textContent = task.name || task.element_id;
    const link = $('task-instance-link');
    link.href = '/instances/' + instance.id;
    link.textContent = `${instance.process_key} · ${t('common.version', { version: instance.version })}` +
      (instance.business_key ? ' · ' + instance.business_key : '');
    const s = state();
    const badge = $('task-state');
    badge.textContent = s.readOnly ? t('task.state_readonly') : s.mine ? t('task.state_mine')
      : s.other ? t('task.state_other', { user: s.other }) : t('task.state_offered');
    badge.className = 'badge ' + (s.mine ? 'badge-ok' : s.other ? 'badge-muted' : 'badge-info');
    const meta = [
      ['task.stage', label('stage', task.stage)],
      ['task.business_key', task.business_key || t('common.none')],
      ['task.assignee', task.assignee || t('common.none')],
      ['task.candidates', [...task.candidate_users, ...task.candidate_groups.map((r) => label('role', r))].join(', ') || t('common.none')],
      ['task.created', fmtDate(task.created_at)],
      ['task.due', fmtDue(task.due_at)]
    ];
    $('task-meta').replaceChildren(...meta.map(([key, value]) => el('div', null, el('dt', null, t(key)), el('dd', null, value))));
    const doc = $('task-doc');
    doc.hidden = !detail.documentation;
    doc.textContent = detail.documentation || '';
  }

  async function renderForm(data) {
    if (!detail.form) {
      container.replaceChildren(el('p', { class: 'muted' }, t('task.no_form')));
      form = null;
      return;
    }
    const s = state();
    form = await createForm(container, detail.form.schema, data, { readOnly: closed || !(s.mine || s.offered) });
  }

  function renderActions() {
    const s = state();
    const working = !closed && (s.mine || s.offered);
    $('btn-claim').hidden = closed || !s.offered;
    $('btn-unclaim').hidden = closed || !s.mine;
    $('btn-draft').hidden = !working || !detail.form;
    $('btn-complete').hidden = !working;
    if (s.other && !closed) showMessage(notice, t('task.readonly', { user: s.other }), 'info');
    renderAssign().catch(() => { $('task-assign').hidden = true; });
  }

  /** Leaders and admins hand a task to one of its candidates (the server decides whether this leader
      leads the instance). */
  async function renderAssign() {
    const box = $('task-assign');
    box.hidden = closed || !user.roles.some((r) => r === 'leader' || r === 'admin');
    if (box.hidden) return;
    const { task } = detail;
    const users = await api('GET', '/api/v1/users');
    const candidates = users.filter((u) => !u.disabled && u.name !== task.assignee &&
      (task.candidate_users.includes(u.name) || u.groups.some((g) => task.candidate_groups.includes(g))));
    $('assign-user').replaceChildren(...candidates.map((u) => el('option', { value: u.name }, u.display_name || u.name)));
    box.hidden = !candidates.length;
  }

  async function act(button, fn) {
    button.disabled = true;
    try {
      await fn();
    } catch (e) {
      if (e.status === 422 && e.problems.length && form) {
        showProblems(form, container, problems, e.problems);
      } else {
        showMessage(notice, t('common.error', { message: errorText(e) }), 'error');
      }
    } finally {
      button.disabled = false;
    }
  }

  $('btn-claim').addEventListener('click', (event) => act(event.currentTarget, async () => {
    const data = form ? formData(form) : null;
    detail.task = await api('POST', `/api/v1/tasks/${taskId}/claim`);
    renderHeader();
    renderActions();
    if (data) await renderForm({ ...detail.data, ...data });
    showMessage(notice, t('task.claimed'), 'success');
  }));

  $('btn-unclaim').addEventListener('click', (event) => act(event.currentTarget, async () => {
    detail.task = await api('POST', `/api/v1/tasks/${taskId}/unclaim`);
    renderHeader();
    renderActions();
    showMessage(notice, t('task.unclaimed'), 'success');
  }));

  $('task-assign').addEventListener('submit', (event) => {
    event.preventDefault();
    act($('btn-assign'), async () => {
      const name = $('assign-user').value;
      detail.task = await api('POST', `/api/v1/tasks/${taskId}/assign`, { user: name });
      renderHeader();
      renderActions();
      await renderForm({ ...detail.data });
      showMessage(notice, t('task.assigned', { user: name }), 'success');
    });
  });

  $('btn-draft').addEventListener('click', (event) => act(event.currentTarget, async () => {
    const data = formData(form);
    detail.task = await api('PUT', `/api/v1/tasks/${taskId}/draft`, { data });
    detail.data = { ...detail.data, ...data };
    showMessage(notice, t('task.draft_saved'), 'success');
  }));

  $('btn-complete').addEventListener('click', (event) => act(event.currentTarget, async () => {
    clearProblems(null, problems);
    showMessage(notice, '');
    const data = form ? formData(form) : {};
    const result = await api('POST', `/api/v1/tasks/${taskId}/complete`, { data });
    closed = true;
    done(result);
  }));

  function done(result) {
    container.replaceChildren();
    clearProblems(null, problems);
    for (const id of ['btn-claim', 'btn-unclaim', 'btn-draft', 'btn-complete', 'task-assign']) $(id).hidden = true;
    const mine = result.open_tasks.filter((task) => task.assignee === user.name ||
      (!task.assignee && (task.candidate_users.includes(user.name) || task.candidate_groups.some((r) => user.roles.includes(r)))));
    // Who holds each next step: the assignee, else the people or roles it is offered to.
    const holder = holderOf;
    const box = $('task-done');
    box.replaceChildren(...[
      el('p', null, el('strong', null, t('task.done'))),
      result.open_tasks.length
        ? el('ul', { class: 'plain-list', id: 'next-steps' }, ...result.open_tasks.map((task) => el('li', { 'data-next-step': task.element_id },
          mine.includes(task) ? el('a', { href: '/tasks/' + task.id, 'data-next-task': task.element_id }, task.name) : task.name,
          ' → ', holder(task))))
        : el('p', null, t(result.instance.status === 'running' ? 'task.next_waiting' : 'task.instance_finished')),
      el('p', null, el('a', { href: '/inbox' }, t('task.back_inbox')), ' · ',
        el('a', { href: '/instances/' + result.instance.id }, t('task.see_instance')))
    ]);
    box.hidden = false;
    box.focus();
    $('task-state').textContent = t('status.completed');
    announce(t('task.done'));
  }

  // --- context ----------------------------------------------------------------------------------

  async function schemaOf(key) {
    if (!schemas[key]) schemas[key] = api('GET', '/api/v1/forms/' + encodeURIComponent(key)).then((f) => f.schema);
    return schemas[key];
  }

  function formRefs(xml) {
    const refs = {};
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    for (const node of doc.getElementsByTagName('*')) {
      const ref = node.getAttribute('camunda:formRef') ||
        node.getAttributeNS('http://camunda.org/schema/1.0/bpmn', 'formRef');
      if (ref && node.getAttribute('id')) refs[node.getAttribute('id')] = ref;
    }
    return refs;
  }

  function readOnlyForm(formKey, data) {
    const holder = el('div', { class: 'form-container form-readonly' });
    schemaOf(formKey)
      .then((schema) => createForm(holder, schema, data, { readOnly: true }))
      .catch((e) => holder.replaceChildren(el('p', { class: 'muted' }, errorText(e))));
    return holder;
  }

  function collapsible(title, sub, render, open, dataset) {
    const body = el('div', { class: 'details-body' });
    const details = el('details', { class: 'context-item', open: open || null, dataset },
      el('summary', null, el('span', { class: 'summary-title' }, title), sub ? el('span', { class: 'summary-sub' }, sub) : null),
      body);
    let rendered = false;
    const show = () => {
      if (details.open && !rendered) {
        rendered = true;
        body.append(render());
      }
    };
    details.addEventListener('toggle', show);
    show();
    return details;
  }

  async function loadContext() {
    const { instance } = detail;
    const [full, versions, xml] = await Promise.all([
      api('GET', '/api/v1/process-instances/' + instance.id),
      api('GET', `/api/v1/process-definitions/${encodeURIComponent(instance.process_key)}/versions`),
      api('GET', `/api/v1/process-definitions/${encodeURIComponent(instance.process_key)}/xml?version=${instance.version}`)
    ]);
    const refs = formRefs(xml);
    const definition = versions.find((d) => d.version === instance.version) || {};
    const variables = full.instance.variables || {};
    const parts = [];
    const started = full.history.find((h) => h.type === 'instance_started');
    if (definition.start_form_key) {
      const data = (started && started.details && started.details.variables) || variables;
      parts.push(collapsible(variables.title || t('context.trigger'), t('context.trigger'),
        () => readOnlyForm(definition.start_form_key, data), true, { context: 'trigger' }));
    }
    const goal = variables.goal;
    if (goal && typeof goal === 'object' && goal.metric) {
      parts.push(el('section', { class: 'context-goal', 'data-context': 'goal' },
        el('h3', null, t('context.goal')),
        el('p', null, t('context.goal_text', goal))));
    }
    const finished = full.history.filter((h) => h.type === 'task_completed');
    parts.push(el('h3', null, t('context.earlier')));
    if (!finished.length) parts.push(el('p', { class: 'muted' }, t('context.none')));
    for (const h of finished.slice().reverse()) {
      const key = refs[h.element_id];
      const name = (h.details && h.details.name) || h.element_id;
      parts.push(collapsible(name, t('context.by', { actor: h.actor || '', at: fmtDate(h.at) }),
        () => (key ? readOnlyForm(key, (h.details && h.details.data) || {}) : el('pre', null, JSON.stringify(h.details && h.details.data, null, 2))),
        false, { context: 'step', elementId: h.element_id }));
    }
    $('context').replaceChildren(...parts);
  }

  // --- live -------------------------------------------------------------------------------------

  live(async (type, event) => {
    if (closed || !detail || event.task_id !== taskId || event.actor === user.name) return;
    if (type === 'task_claimed' || type === 'task_assigned' || type === 'task_unclaimed') {
      try {
        const data = form ? formData(form) : null;
        const fresh = await api('GET', '/api/v1/tasks/' + taskId);
        const before = detail.task.assignee;
        detail.task = fresh.task;
        renderHeader();
        renderActions();
        // "just taken" only when the holder changed (an event about the holder it had says nothing new)
        if (state().other && fresh.task.assignee !== before) {
          showMessage(notice, t('task.taken', { user: state().other }), 'info');
          await renderForm({ ...detail.data, ...(data || {}) });
        }
      } catch (e) { /* the next event tells */ }
    } else if (type === 'task_completed' || type === 'task_cancelled') {
      closed = true;
      renderActions();
      if (form) form.setProperty('readOnly', true);
      showMessage(notice, t('task.gone'), 'info');
    }
  });

  document.addEventListener('langchange', async () => {
    if (!detail) return;
    renderHeader();
    if (form && !closed) await renderForm({ ...detail.data, ...formData(form) });
    loadContext().catch(() => {});
  });

  load();
})();
