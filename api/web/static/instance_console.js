/* Instance page, operator's console: the actions the engine says the reader may take now (retry an
   incident, suspend or resume, answer a waiting message by hand, change data, move the token), each
   with the reason the audit log keeps. Re-drawn whenever the instance page reloads. */
(function () {
  'use strict';
  const { api, el, showMessage, t, errorText } = window.Opsflow;
  const root = document.getElementById('instance-root');
  if (!root || !window.Opsflow.requireUser()) return;
  const instanceId = root.dataset.instanceId;
  const $ = (id) => document.getElementById(id);
  const path = (action) => `/api/v1/process-instances/${instanceId}/${action}`;
  let detail = null;

  const name = (id) => (window.OpsflowInstance ? window.OpsflowInstance.elementName(id) : id);

  function render() {
    const actions = new Set(detail.actions || []);
    const { instance } = detail;
    const shown = ['retry', 'suspend', 'answer_message', 'set_variables', 'move_token', 'migrate'].filter((a) => actions.has(a) || (a === 'suspend' && actions.has('resume')));
    $('console-section').hidden = shown.length === 0;
    $('retry-form').hidden = !actions.has('retry');
    $('suspend-form').hidden = !(actions.has('suspend') || actions.has('resume'));
    $('btn-suspend').hidden = !actions.has('suspend');
    $('btn-resume').hidden = !actions.has('resume');
    const messages = (detail.waiting || []).filter((w) => w.kind === 'message');
    $('answer-form').hidden = !(actions.has('answer_message') && messages.length);
    const chosen = $('answer-message').value;
    $('answer-message').replaceChildren(...messages.map((w) => el('option', { value: w.message, 'data-approval': String(w.approval) },
      (w.approval ? t('instances.waiting_approval') : t('instances.waiting_message', { message: w.message })) + ' · ' + name(w.element_id))));
    if (chosen && messages.some((w) => w.message === chosen)) $('answer-message').value = chosen;
    showApprovalFields();
    $('variables-form').hidden = !actions.has('set_variables');
    $('move-form').hidden = !actions.has('move_token');
    if (actions.has('move_token')) renderMoveTargets();
    $('migrate-form').hidden = !actions.has('migrate');
    if (actions.has('migrate')) renderVersions(instance);
    $('console-section').dataset.status = instance.status;
  }

  /** Skip an open step (a task, a wait) or go back to a user or external task that ran. */
  function renderMoveTargets() {
    const tokens = (detail.path && detail.path.tokens) || [];
    const open = [...new Set(tokens.map((token) => token.element_id))];
    const done = Object.keys((detail.path && detail.path.elements) || {}).filter((id) => !open.includes(id) &&
      detail.history.some((h) => (h.type === 'task_created' || h.type === 'task_completed') && h.element_id === id));
    const chosen = $('move-target').value;
    $('move-target').replaceChildren(
      ...open.map((id) => el('option', { value: 'skip:' + id }, t('console.move_skip', { step: name(id) }))),
      ...done.map((id) => el('option', { value: 'back_to:' + id }, t('console.move_back', { step: name(id) }))));
    if (chosen && [...$('move-target').options].some((o) => o.value === chosen)) $('move-target').value = chosen;
  }

  let versions = null;

  /** The process's other versions, newest first (read once per page). */
  async function renderVersions(instance) {
    if (versions === null) {
      versions = [];
      try {
        versions = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(instance.process_key)}/versions`);
      } catch (e) { /* the form stays empty */ }
    }
    const chosen = $('migrate-version').value;
    const others = versions.filter((v) => v.version !== instance.version).sort((a, b) => b.version - a.version);
    $('migrate-version').replaceChildren(...others.map((v) => el('option', { value: String(v.version) }, t('common.version', { version: v.version }))));
    if (chosen && others.some((v) => String(v.version) === chosen)) $('migrate-version').value = chosen;
    $('btn-migrate').disabled = others.length === 0;
  }

  function showApprovalFields() {
    const option = $('answer-message').selectedOptions[0];
    const approval = !!option && option.dataset.approval === 'true';
    $('answer-approval').hidden = !approval;
    $('answer-payload-field').hidden = approval;
  }

  function fail(input, key) {
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    showMessage($('console-message'), t(key), 'error');
    return null;
  }

  function json(input) {
    const text = input.value.trim();
    if (!text) return {};
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch (e) { /* said below */ }
    return fail(input, 'console.bad_json');
  }

  function required(input) {
    const value = input.value.trim();
    if (!value) return fail(input, 'console.needs_reason');
    return value;
  }

  async function act(button, method, action, body, done) {
    for (const node of $('console-section').querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      await api(method, path(action), body);
      showMessage($('console-message'), t(done), 'success');
      for (const form of $('console-section').querySelectorAll('form')) {
        for (const input of form.querySelectorAll('input:not([type=radio]), textarea')) input.value = input.id === 'answer-payload' ? '{}' : '';
      }
      await window.OpsflowInstance.reload();
    } catch (e) {
      const problems = (e.problems || []).map((p) => (p.path ? p.path + ': ' : '') + p.message);
      showMessage($('console-message'), t('common.error', { message: [errorText(e), ...problems].join(' · ') }), 'error');
    } finally {
      button.disabled = false;
    }
  }

  $('retry-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const variables = json($('retry-variables'));
    if (variables) act($('btn-retry'), 'POST', 'retry', { variables }, 'console.retried');
  });
  $('suspend-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const resume = !$('btn-resume').hidden;
    act(resume ? $('btn-resume') : $('btn-suspend'), 'POST', resume ? 'resume' : 'suspend',
      { reason: $('suspend-reason').value.trim() }, resume ? 'console.resumed' : 'console.suspended');
  });
  $('answer-message').addEventListener('change', showApprovalFields);
  $('answer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const message = $('answer-message').value;
    let payload;
    if (!$('answer-approval').hidden) {
      const picked = document.querySelector('input[name="approved"]:checked');
      if (!picked) return fail($('answer-approved'), 'console.needs_decision');
      payload = { approved: picked.value === 'true', approval_comment: $('answer-comment').value.trim() };
    } else {
      payload = json($('answer-payload'));
      if (!payload) return null;
    }
    const reason = required($('answer-reason'));
    if (reason) act($('btn-answer'), 'POST', 'answer-message', { message, payload, reason }, 'console.answered');
    return null;
  });
  $('variables-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const variables = json($('variables-json'));
    if (!variables) return;
    if (!Object.keys(variables).length) { fail($('variables-json'), 'console.needs_variables'); return; }
    const reason = required($('variables-reason'));
    if (reason) act($('btn-variables'), 'PATCH', 'variables', { variables, reason }, 'console.variables_saved');
  });
  $('move-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const [kind, ...rest] = $('move-target').value.split(':');
    if (!kind) return;
    const reason = required($('move-reason'));
    if (reason) act($('btn-move'), 'POST', 'move-token', { [kind]: rest.join(':'), reason }, 'console.moved');
  });

  $('migrate-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const mapping = json($('migrate-mapping'));
    if (!mapping || !$('migrate-version').value) return;
    const body = { target_version: Number($('migrate-version').value), mapping, reason: $('migrate-reason').value.trim() };
    act($('btn-migrate'), 'POST', 'migrate', body, 'console.migrated');
  });

  document.addEventListener('instance:loaded', (event) => { detail = event.detail; render(); });
  document.addEventListener('langchange', () => { if (detail) render(); });
})();
