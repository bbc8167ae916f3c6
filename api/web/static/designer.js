/* Process designer: bpmn-js modeler + properties panel (Camunda 7 moddle, so formRef, candidate
   groups, extension properties and conditions are editable); validate, deploy, download. */
(function () {
  'use strict';
  const { api, requireUser, el, showMessage, t, errorText, runAction } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const $ = (id) => document.getElementById(id);
  const status = $('designer-status');
  const problemsBox = $('designer-problems');
  const warningsBox = $('designer-warnings');
  const processSelect = $('d-process');
  const versionSelect = $('d-version');
  let modeler = null;
  let problemOverlays = [];
  let dirty = false;

  const BLANK = (id) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="Process_${id}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_${id}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

  async function init() {
    const camunda = await fetch('/web/vendor/camunda-bpmn-moddle/camunda.json').then((r) => r.json());
    const panel = window.BpmnJSPropertiesPanel;
    modeler = new window.BpmnJS({
      container: '#canvas',
      propertiesPanel: { parent: '#properties' },
      additionalModules: [
        panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule, panel.CamundaPlatformPropertiesProviderModule
      ],
      moddleExtensions: { camunda }
    });
    modeler.on('commandStack.changed', () => { dirty = true; });
    window.opsflowModeler = modeler;  // for tests and the curious
    await loadDefinitions();
    const params = new URLSearchParams(location.search);
    if (params.get('new')) return blank();
    if (processSelect.value) await open(processSelect.value, params.get('version'));
    else await blank();
  }

  async function loadDefinitions(selectKey) {
    const definitions = await api('GET', '/api/v1/process-definitions');
    const want = selectKey || new URLSearchParams(location.search).get('process') || processSelect.value;
    processSelect.replaceChildren(...definitions.map((d) => el('option', { value: d.key }, `${d.name || d.key} (${d.key})`)));
    if (want && definitions.some((d) => d.key === want)) processSelect.value = want;
    await loadVersions();
  }

  async function loadVersions(selectVersion) {
    if (!processSelect.value) { versionSelect.replaceChildren(); return; }
    const versions = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(processSelect.value)}/versions`);
    versions.sort((a, b) => b.version - a.version);
    versionSelect.replaceChildren(...versions.map((v) => el('option', { value: v.version }, String(v.version))));
    if (selectVersion) versionSelect.value = String(selectVersion);
  }

  async function open(key, version) {
    if (version) await loadVersions(version);
    const v = version || versionSelect.value;
    const xml = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(key)}/xml` + (v ? `?version=${v}` : ''));
    await importXML(xml);
    showMessage(status, t('designer.opened', { key, version: v }), 'info');
    history.replaceState(null, '', `/designer?process=${encodeURIComponent(key)}&version=${v}`);
  }

  async function importXML(xml) {
    clearProblems();
    await modeler.importXML(xml);
    modeler.get('canvas').zoom('fit-viewport', 'auto');
    dirty = false;
    document.body.dataset.modelerReady = String(Date.now());
  }

  async function blank() {
    await importXML(BLANK(Math.random().toString(36).slice(2, 9)));
    showMessage(status, t('designer.blank'), 'info');
    history.replaceState(null, '', '/designer?new=1');
  }

  function processId() {
    const definitions = modeler.getDefinitions();
    const processes = definitions.rootElements.filter((e) => e.$type === 'bpmn:Process');
    const chosen = processes.find((p) => p.isExecutable) || processes[0];
    return chosen ? chosen.id : null;
  }

  async function upload(path) {
    const id = processId();
    if (!id) throw new Error(t('designer.no_process'));
    const { xml } = await modeler.saveXML({ format: true });
    const body = new FormData();
    body.append('files', new Blob([xml], { type: 'application/xml' }), id + '.bpmn');
    if (path === '/api/v1/deployments') body.append('name', 'designer');
    return api('POST', path, body);
  }

  // Problems refuse a deployment; warnings (deployed, worth a look) come with a successful one.
  const BOXES = {
    problem: { box: problemsBox, marker: 'has-problem', badge: 'problem-badge', title: 'designer.problems' },
    warning: { box: warningsBox, marker: 'has-warning', badge: 'warning-badge', title: 'designer.warnings' }
  };

  function clearProblems() {
    if (!modeler) return;
    const canvas = modeler.get('canvas');
    const overlays = modeler.get('overlays');
    for (const [id, overlayId, marker] of problemOverlays) {
      canvas.removeMarker(id, marker);
      overlays.remove(overlayId);
    }
    problemOverlays = [];
    for (const { box } of Object.values(BOXES)) {
      box.hidden = true;
      box.replaceChildren();
    }
  }

  function showFindings(problems, kind) {
    const { box, marker, badge, title } = BOXES[kind];
    const registry = modeler.get('elementRegistry');
    const canvas = modeler.get('canvas');
    const overlays = modeler.get('overlays');
    const items = problems.map((p) => {
      const element = p.element_id && registry.get(p.element_id);
      if (element) {
        canvas.addMarker(element.id, marker);
        const overlayId = overlays.add(element.id, kind, {
          position: { top: -12, right: 12 },
          html: el('div', { class: badge, title: p.message, 'aria-hidden': 'true' }, '!')
        });
        problemOverlays.push([element.id, overlayId, marker]);
      }
      const where = [p.element_id, p.line ? 'line ' + p.line : null].filter(Boolean).join(', ');
      return el('li', { 'data-element-id': p.element_id || '' },
        element ? el('a', {
          href: '#',
          onclick: (event) => {
            event.preventDefault();
            modeler.get('selection').select(element);
            canvas.scrollToElement(element);
          }
        }, where) : (where || p.file || ''),
        where || p.file ? ': ' : '', p.message);
    });
    box.replaceChildren(el('p', null, t(title, { count: problems.length })), el('ul', null, items));
    box.hidden = false;
    if (kind === 'problem') box.focus();
  }

  function showProblems(problems) {
    clearProblems();
    showFindings(problems, 'problem');
  }

  const run = (button, fn) => runAction(button, status, showProblems, fn);

  $('btn-open').addEventListener('click', (event) => run(event.currentTarget, () => open(processSelect.value, versionSelect.value)));
  $('btn-new').addEventListener('click', (event) => run(event.currentTarget, blank));
  processSelect.addEventListener('change', () => loadVersions());
  $('btn-validate').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const problems = await upload('/api/v1/deployments/validate');
    if (problems.length) showProblems(problems);
    else { clearProblems(); showMessage(status, t('designer.valid'), 'success'); }
  }));
  $('btn-deploy').addEventListener('click', (event) => run(event.currentTarget, async () => {
    clearProblems();
    const result = await upload('/api/v1/deployments');
    const deployed = result.definitions.map((d) => `${d.key} ${t('common.version', { version: d.version })}`);
    if (deployed.length) {
      showMessage(status, t('designer.deployed', { list: deployed.join(', ') }), 'success');
      dirty = false;
      const d = result.definitions[0];
      await loadDefinitions(d.key);
      await loadVersions(d.version);
      history.replaceState(null, '', `/designer?process=${encodeURIComponent(d.key)}&version=${d.version}`);
      if (result.warnings.length) showFindings(result.warnings, 'warning');
    } else {
      showMessage(status, t('designer.unchanged'), 'info');
    }
  }));
  $('btn-download').addEventListener('click', (event) => run(event.currentTarget, async () => {
    const { xml } = await modeler.saveXML({ format: true });
    const link = el('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })), download: (processId() || 'process') + '.bpmn' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }));
  window.addEventListener('beforeunload', (event) => { if (dirty) event.preventDefault(); });

  init().catch((e) => showMessage(status, t('common.error', { message: errorText(e) }), 'error'));
})();
