/* Form designer: the form-js editor on a deployed form (or a new one); validate, deploy, download.
   Tasks whose process names the form with formRefBinding "latest" show the new version. */
(function () {
  'use strict';
  const { api, requireUser, el, showMessage, t, errorText, runAction } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const $ = (id) => document.getElementById(id);
  const status = $('designer-status');
  const problemsBox = $('designer-problems');
  const formSelect = $('fd-form');
  const versionSelect = $('fd-version');
  let editor = null;
  let dirty = false;

  async function init() {
    editor = new window.FormEditor.FormEditor({ container: '#form-editor' });
    editor.on('changed', () => { dirty = true; });
    window.opsflowFormEditor = editor;
    const params = new URLSearchParams(location.search);
    await loadForms(params.get('form'));
    if (formSelect.value) await open(formSelect.value, params.get('version'));
  }

  async function loadForms(selectKey) {
    const forms = await api('GET', '/api/v1/forms');
    forms.sort((a, b) => a.key.localeCompare(b.key));
    const want = selectKey || formSelect.value;
    formSelect.replaceChildren(...forms.map((f) => el('option', { value: f.key }, f.key)));
    if (want && forms.some((f) => f.key === want)) formSelect.value = want;
    await loadVersions();
  }

  async function loadVersions(selectVersion) {
    if (!formSelect.value) return;
    const latest = await api('GET', '/api/v1/forms/' + encodeURIComponent(formSelect.value));
    const versions = [];
    for (let v = latest.version; v >= 1; v--) versions.push(v);
    versionSelect.replaceChildren(...versions.map((v) => el('option', { value: v }, String(v))));
    if (selectVersion) versionSelect.value = String(selectVersion);
  }

  async function open(key, version) {
    if (version) await loadVersions(version);
    const v = version || versionSelect.value;
    const form = await api('GET', `/api/v1/forms/${encodeURIComponent(key)}` + (v ? `?version=${v}` : ''));
    await importSchema(form.schema);
    showMessage(status, t('forms.opened', { key, version: form.version }), 'info');
    history.replaceState(null, '', `/designer/forms?form=${encodeURIComponent(key)}&version=${form.version}`);
  }

  async function importSchema(schema) {
    clearProblems();
    await editor.importSchema(schema);
    dirty = false;
    document.body.dataset.editorReady = String(Date.now());
  }

  function clearProblems() {
    problemsBox.hidden = true;
    problemsBox.replaceChildren();
  }

  function showProblems(problems) {
    problemsBox.replaceChildren(el('p', null, t('designer.problems', { count: problems.length })),
      el('ul', null, problems.map((p) => el('li', null, [p.element_id, p.path].filter(Boolean).join(' · ') + ': ' + p.message))));
    problemsBox.hidden = false;
    problemsBox.focus();
  }

  function upload(path) {
    const schema = editor.saveSchema();
    const body = new FormData();
    body.append('files', new Blob([JSON.stringify(schema, null, 2)], { type: 'application/json' }), schema.id + '.form');
    if (path === '/api/v1/deployments') body.append('name', 'form designer');
    return api('POST', path, body);
  }

  const run = (button, fn) => runAction(button, status, showProblems, fn);

  $('btn-open').addEventListener('click', (event) => run(event.currentTarget, () => open(formSelect.value, versionSelect.value)));
  formSelect.addEventListener('change', () => loadVersions());
  $('btn-new').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const key = (prompt(t('forms.new_key')) || '').trim();
    if (!key) return;
    if (!/^[A-Za-z0-9_]+$/.test(key)) throw new Error(t('forms.new_key'));
    await importSchema({
      type: 'default', id: key, schemaVersion: 16, executionPlatform: 'Camunda Platform', executionPlatformVersion: '7.22.0',
      components: [{ type: 'text', id: 'Text_heading', text: '# ' + key, layout: { row: 'Row_heading', columns: null } }]
    });
    showMessage(status, t('forms.created', { key }), 'info');
  }));
  $('btn-validate').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const problems = await upload('/api/v1/deployments/validate');
    if (problems.length) showProblems(problems);
    else { clearProblems(); showMessage(status, t('designer.valid'), 'success'); }
  }));
  $('btn-deploy').addEventListener('click', (event) => run(event.currentTarget, async () => {
    clearProblems();
    const result = await upload('/api/v1/deployments');
    if (result.forms.length) {
      const f = result.forms[0];
      showMessage(status, t('designer.deployed', { list: `${f.key} ${t('common.version', { version: f.version })}` }), 'success');
      dirty = false;
      await loadForms(f.key);
      await loadVersions(f.version);
    } else {
      showMessage(status, t('designer.unchanged'), 'info');
    }
  }));
  $('btn-download').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const schema = editor.saveSchema();
    const link = el('a', {
      href: URL.createObjectURL(new Blob([JSON.stringify(schema, null, 2)], { type: 'application/json' })),
      download: schema.id + '.form'
    });
    document.body.append(link);
    link.click();
    link.remove();
  }));
  window.addEventListener('beforeunload', (event) => { if (dirty) event.preventDefault(); });

  init().catch((e) => showMessage(status, t('common.error', { message: errorText(e) }), 'error'));
})();
