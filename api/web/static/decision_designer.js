/* Decision designer: the dmn-js modeler (decision table view) on a deployed decision's DMN file;
   validate, deploy a new version, download, and the decision's versions. Modelled on designer.js. */
(function () {
  'use strict';
  const { api, requireUser, el, fmtDate, showMessage, t, errorText, runAction } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const $ = (id) => document.getElementById(id);
  const status = $('designer-status');
  const problemsBox = $('designer-problems');
  const decisionSelect = $('d-decision');
  const versionSelect = $('d-version');
  let modeler = null;
  let dirty = false;

  const BLANK = (id) => `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
  xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="Definitions_${id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="Decision_${id}" name="Decision ${id}">
    <decisionTable id="DecisionTable_${id}">
      <input id="Input_1" label="Input">
        <inputExpression id="InputExpression_1" typeRef="string"><text>input</text></inputExpression>
      </input>
      <output id="Output_1" label="Output" name="output" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="UnaryTests_1"><text>-</text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>"result"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram id="DMNDiagram_${id}">
    <dmndi:DMNShape id="DMNShape_${id}" dmnElementRef="Decision_${id}"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape>
  </dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>`;

  async function init() {
    modeler = new window.DmnJS({ container: '#dmn-canvas', common: { keyboard: { bindTo: window } } });
    modeler.on('views.changed', () => {
      const viewer = modeler.getActiveViewer();
      if (viewer) viewer.on('elements.changed', () => { dirty = true; });
    });
    window.opsflowDmnModeler = modeler;  // for tests and the curious
    await loadDecisions();
    const params = new URLSearchParams(location.search);
    if (params.get('new')) return blank();
    if (decisionSelect.value) await open(decisionSelect.value, params.get('version'));
    else await blank();
  }

  async function loadDecisions(selectKey) {
    const decisions = await api('GET', '/api/v1/decisions');
    const want = selectKey || new URLSearchParams(location.search).get('decision') || decisionSelect.value;
    decisionSelect.replaceChildren(...decisions.map((d) => el('option', { value: d.key }, `${d.name || d.key} (${d.key})`)));
    if (want && decisions.some((d) => d.key === want)) decisionSelect.value = want;
    await loadVersions();
  }

  async function loadVersions(selectVersion) {
    if (!decisionSelect.value) { versionSelect.replaceChildren(); $('version-rows').replaceChildren(); return; }
    const versions = await api('GET', `/api/v1/decisions/${encodeURIComponent(decisionSelect.value)}/versions`);
    versionSelect.replaceChildren(...versions.map((v) => el('option', { value: v.version }, String(v.version))));
    if (selectVersion) versionSelect.value = String(selectVersion);
    $('version-rows').replaceChildren(...versions.map((v) => el('tr', { 'data-version': v.version },
      el('td', null, String(v.version)), el('td', null, v.hit_policy), el('td', null, fmtDate(v.deployed_at)))));
  }

  async function open(key, version) {
    if (version) await loadVersions(version);
    const v = version || versionSelect.value;
    const xml = await api('GET', `/api/v1/decisions/${encodeURIComponent(key)}/xml` + (v ? `?version=${v}` : ''));
    await importXML(xml, key);
    showMessage(status, t('decisions.opened', { key, version: v }), 'info');
    history.replaceState(null, '', `/designer/decisions?decision=${encodeURIComponent(key)}&version=${v}`);
  }

  async function importXML(xml, key) {
    clearProblems();
    await modeler.importXML(xml);
    const views = modeler.getViews().filter((view) => view.type === 'decisionTable');
    const view = views.find((candidate) => candidate.element.id === key) || views[0];
    if (view) await modeler.open(view);
    dirty = false;
    document.body.dataset.modelerReady = String(Date.now());
  }

  async function blank() {
    const id = Math.random().toString(36).slice(2, 9);
    await importXML(BLANK(id), 'Decision_' + id);
    showMessage(status, t('decisions.blank'), 'info');
    history.replaceState(null, '', '/designer/decisions?new=1');
  }

  function decisionId() {
    const view = modeler.getActiveView();
    return view && view.element ? view.element.id : null;
  }

  async function upload(path) {
    const id = decisionId();
    if (!id) throw new Error(t('decisions.no_decision'));
    const { xml } = await modeler.saveXML({ format: true });
    const body = new FormData();
    body.append('files', new Blob([xml], { type: 'application/xml' }), id + '.dmn');
    if (path === '/api/v1/deployments') body.append('name', 'decision designer');
    return api('POST', path, body);
  }

  function clearProblems() {
    problemsBox.hidden = true;
    problemsBox.replaceChildren();
  }

  function showProblems(problems) {
    const items = problems.map((p) => {
      const where = [p.element_id, p.line ? 'line ' + p.line : null].filter(Boolean).join(', ');
      return el('li', { 'data-element-id': p.element_id || '' }, where || p.file || '', ': ', p.message);
    });
    problemsBox.replaceChildren(el('p', null, t('designer.problems', { count: problems.length })), el('ul', null, items));
    problemsBox.hidden = false;
    problemsBox.focus();
  }

  const run = (button, fn) => runAction(button, status, showProblems, fn);

  $('btn-open').addEventListener('click', (event) => run(event.currentTarget, () => open(decisionSelect.value, versionSelect.value)));
  $('btn-new').addEventListener('click', (event) => run(event.currentTarget, blank));
  decisionSelect.addEventListener('change', () => loadVersions());
  $('btn-validate').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const problems = await upload('/api/v1/deployments/validate');
    if (problems.length) showProblems(problems);
    else { clearProblems(); showMessage(status, t('designer.valid'), 'success'); }
  }));
  $('btn-deploy').addEventListener('click', (event) => run(event.currentTarget, async () => {
    clearProblems();
    const result = await upload('/api/v1/deployments');
    const deployed = result.decisions.map((d) => `${d.key} ${t('common.version', { version: d.version })}`);
    if (deployed.length) {
      showMessage(status, t('designer.deployed', { list: deployed.join(', ') }), 'success');
      dirty = false;
      const d = result.decisions[0];
      await loadDecisions(d.key);
      await loadVersions(d.version);
      history.replaceState(null, '', `/designer/decisions?decision=${encodeURIComponent(d.key)}&version=${d.version}`);
    } else {
      showMessage(status, t('designer.unchanged'), 'info');
    }
  }));
  $('btn-download').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const { xml } = await modeler.saveXML({ format: true });
    const link = el('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })), download: (decisionId() || 'decision') + '.dmn' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }));
  window.addEventListener('beforeunload', (event) => { if (dirty) event.preventDefault(); });

  init().catch((e) => showMessage(status, t('common.error', { message: errorText(e) }), 'error'));
})();
