/* Start a process: its start form (form-js), an optional business key, POST /api/v1/process-instances. */
(function () {
  'use strict';
  const { api, requireUser, hasRole, showMessage, t, errorText } = window.Opsflow;
  const { createForm, formData, showProblems, clearProblems } = window.OpsflowForms;
  const user = requireUser();
  if (!user) return;

  const key = document.getElementById('start-root').dataset.processKey;
  const container = document.getElementById('form');
  const problems = document.getElementById('form-problems');
  const error = document.getElementById('start-error');
  const button = document.getElementById('btn-start');
  let definition = null;
  let schema = null;
  let form = null;

  async function load() {
    if (!hasRole('leader', 'admin')) showMessage(error, t('start.forbidden'), 'info');
    try {
      const definitions = await api('GET', '/api/v1/process-definitions');
      definition = definitions.find((d) => d.key === key);
      if (!definition) throw new Error(key);
      renderTitle();
      if (definition.start_form_key) schema = (await api('GET', '/api/v1/forms/' + encodeURIComponent(definition.start_form_key))).schema;
      await render({});
      button.disabled = false;
    } catch (e) {
      showMessage(error, t('common.error', { message: errorText(e) }), 'error');
    }
  }

  function renderTitle() {
    document.getElementById('start-title').textContent =
      t('instances.start', { name: definition.name || definition.key }) + ' · ' + t('common.version', { version: definition.version });
  }

  async function render(data) {
    if (schema) form = await createForm(container, schema, data);
  }

  button.addEventListener('click', async () => {
    button.disabled = true;
    clearProblems(form, problems);
    showMessage(error, '');
    const body = { process_key: key, variables: form ? formData(form) : {} };
    const businessKey = document.getElementById('business-key').value.trim();
    if (businessKey) body.business_key = businessKey;
    try {
      const instance = await api('POST', '/api/v1/process-instances', body);
      location.assign('/instances/' + instance.id + '?started=1');
    } catch (e) {
      if (e.status === 422 && e.problems.length && form) showProblems(form, container, problems, e.problems);
      else showMessage(error, t('common.error', { message: errorText(e) }), 'error');
      button.disabled = false;
    }
  });

  document.addEventListener('langchange', () => {
    if (definition) renderTitle();
    if (form) render(formData(form));
  });
  load();
})();
