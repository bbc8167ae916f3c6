/* Instance page: the BPMN diagram of the instance's version with the path the engine took, its
   flow counts and current tokens marked, the history (who did what, when), the open tasks and the team. Refreshes itself. */
(function () {
  'use strict';
  const { api, requireUser, el, fmtDate, label, showMessage, debounce, live, t, errorText, announce } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  const instanceId = document.getElementById('instance-root').dataset.instanceId;
  const $ = (id) => document.getElementById(id);
  let detail = null;
  let viewer = null;
  let shownXmlFor = null;
  let marked = [];
  let camunda = null;
  let focused = false;

  async function load(reason) {
    const before = detail ? detail.history.length : null;
    try {
      detail = await api('GET', '/api/v1/process-instances/' + instanceId);
    } catch (e) {
      $('instance-loading').hidden = true;
      showMessage($('instance-error'), t('common.error', { message: errorText(e) }), 'error');
      return;
    }
    $('instance-loading').hidden = true;
    $('instance-view').hidden = false;
    render();
    document.dispatchEvent(new CustomEvent('instance:loaded', { detail }));
    await renderDiagram();
    if (reason === 'live' && before !== null && before !== detail.history.length) announce(t('common.updated'));
    document.body.dataset.instanceLoaded = String(detail.history.length);
  }

  function elementName(id) {
    if (viewer && id) {
      const element = viewer.get('elementRegistry').get(id);
      if (element && element.businessObject.name) return element.businessObject.name;
    }
    return id || '';
  }

  function render() {
    const { instance, open_tasks: open, history } = detail;
    $('instance-process').textContent = `${instance.process_key} · ${t('common.version', { version: instance.version })}`;
    $('instance-title').textContent = (instance.variables && instance.variables.title) || instance.business_key || instance.id;
    const status = $('instance-status');
    status.textContent = label('status', instance.status) + (instance.outcome ? ' · ' + label('outcome', instance.outcome) : '');
    status.className = 'badge ' + ({ running: 'badge-info', completed: 'badge-ok', suspended: 'badge-warn' }[instance.status] || 'badge-muted');
    status.dataset.version = instance.version;
    const meta = [
      ['instance.business_key', instance.business_key || t('common.none')],
      ['instance.version', String(instance.version)],
      ['instance.started_by', instance.started_by || t('common.none')],
      ['instance.started_at', fmtDate(instance.started_at)],
      ['instance.ended_at', instance.ended_at ? fmtDate(instance.ended_at) : t('common.none')]
    ];
    $('instance-meta').replaceChildren(...meta.map(([key, value]) => el('div', null, el('dt', null, t(key)), el('dd', { 'data-meta': key }, value))));
    if (instance.incident) {
      showMessage($('instance-error'), t('instance.incident', { message: instance.incident.message }), 'error');
      $('instance-error').dataset.incident = 'shown';
    } else if ($('instance-error').dataset.incident) {  // resolved meanwhile
      showMessage($('instance-error'), '', 'error');
      delete $('instance-error').dataset.incident;
    }

    const waiting = (detail.waiting || []).map((w) => el('li', { 'data-waiting': w.kind === 'timer' ? 'timer' : w.approval ? 'approval' : 'message', class: 'muted' },
      w.kind === 'timer' ? t('instances.waiting_timer', { due: fmtDate(w.due_at) })
        : (w.approval ? t('instances.waiting_approval') : t('instances.waiting_message', { message: w.message })) + ' · ' + elementName(w.element_id)));
    $('open-tasks').replaceChildren(...(open.length || waiting.length ? [...open.map((task) => el('li', { 'data-element-id': task.element_id },
      el('a', { href: '/tasks/' + task.id }, task.name || task.element_id), ' ',
      el('span', { class: 'muted' }, task.assignee ||
        `${t('instance.unassigned')} (${[...task.candidate_users, ...task.candidate_groups.map((r) => label('role', r))].join(', ')})`))), ...waiting]
      : [el('li', { class: 'muted' }, t('instance.no_open'))]));

    renderDocuments(instance.variables || {});
    $('cancel-section').hidden = !(detail.actions || []).includes('cancel');

    const team = instance.team || [];
    $('team-rows').replaceChildren(...team.map((m) => el('tr', null,
      el('td', null, m.user), el('td', null, label('role', m.role)), el('td', null, m.duty || ''))));
    $('team-empty').hidden = team.length > 0;

    $('history-rows').replaceChildren(...history.slice().reverse().map((h) => el('tr', { 'data-type': h.type },
      el('td', null, el('time', { datetime: h.at }, fmtDate(h.at))),
      el('td', null, h.actor || t('common.none')),
      el('td', null, label('event', h.type), h.type === 'task_assigned' && h.details ? ' → ' + h.details.assignee : '',
        h.details && h.details.reason ? el('span', { 'data-reason': '' }, ': ' + h.details.reason) : ''),
      el('td', null, h.task_id && h.element_id
        ? el('button', { type: 'button', class: 'link-button', 'data-step': h.element_id, onclick: () => showStep(h.element_id) },
          (h.details && h.details.name) || elementName(h.element_id))
        : (h.details && h.details.name) || elementName(h.element_id)))));
  }

  /** The step's runs in the panel below the diagram (instance_steps.js); the diagram opens it on a click. */
  function showStep(elementId) {
    document.dispatchEvent(new CustomEvent('instance:step', { detail: { elementId, name: elementName(elementId) } }));
  }

  // The handbook's documents, offered once the instance holds their data (the key each one needs).
  const DOCUMENTS = [['kickoff-minutes', 'meeting_topic'], ['diagnosis-report', 'problems'], ['review', 'what_worked']];

  function renderDocuments(variables) {
    const ready = DOCUMENTS.filter(([, key]) => key in variables);
    $('documents').hidden = ready.length === 0;
    $('document-links').replaceChildren(...ready.map(([kind]) => el('li', { 'data-document': kind },
      t('document.' + kind), ' ',
      ...['docx', 'pdf'].map((format) => el('button', {
        type: 'button', class: 'link-button', 'data-format': format,
        onclick: () => downloadDocument(kind, format)
      }, format === 'docx' ? 'Word' : 'PDF')))));
  }

  async function downloadDocument(kind, format) {
    // A plain link would carry no bearer token: fetch, then hand the browser the file.
    const current = window.Opsflow.session.get();
    const path = `/api/v1/process-instances/${instanceId}/documents/${kind}?format=${format}&lang=${window.Opsflow.lang()}`;
    const response = await fetch(path, { headers: { Authorization: 'Bearer ' + current.token } });
    if (!response.ok) {
      showMessage($('instance-error'), t('common.error', { message: (await response.json()).message }), 'error');
      return;
    }
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: `${kind}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function renderDiagram() {
    const { instance } = detail;
    if (!window.BpmnJS) return;
    if (shownXmlFor !== instance.definition_id) {
      if (!camunda) camunda = await fetch('/web/vendor/camunda-bpmn-moddle/camunda.json').then((r) => r.json()).catch(() => null);
      const xml = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(instance.process_key)}/xml?version=${instance.version}`);
      if (!viewer) viewer = new window.BpmnJS({ container: '#diagram', moddleExtensions: camunda ? { camunda } : {} });
      try {
        await viewer.importXML(xml);
      } catch (e) {  // a model deployed without its diagram (no BPMNDI): the rest of the page still serves
        shownXmlFor = instance.definition_id;
        $('diagram').dataset.error = errorText(e);
        viewer.destroy();
        viewer = null;
        return;
      }
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      shownXmlFor = instance.definition_id;
      document.dispatchEvent(new CustomEvent('instance:diagram', { detail: { viewer } }));
      render();  // element names for the history
    }
    if (viewer) mark();
  }

  /** The path the engine reports (what ran, which flows were taken and how often, where the
      tokens stand), drawn as markers; counts above one as labels on the flows. */
  function mark() {
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    for (const [id, marker] of marked) canvas.removeMarker(id, marker);
    marked = [];
    overlays.remove({ type: 'flow-count' });
    const { instance, path } = detail;
    const tokens = path ? path.tokens : [];
    const tokenIds = new Set(tokens.map((token) => token.element_id));
    const done = Object.keys(path ? path.elements : {}).filter((id) => !tokenIds.has(id));
    const flows = path ? path.flows : {};
    const add = (id, marker) => { if (registry.get(id)) { canvas.addMarker(id, marker); marked.push([id, marker]); } };
    for (const id of done) add(id, 'done');
    for (const token of tokens) add(token.element_id, token.state === 'waiting' ? 'waiting-token' : 'open-task');
    for (const [id, count] of Object.entries(flows)) {
      add(id, 'done');
      if (count > 1 && registry.get(id)) {
        overlays.add(id, 'flow-count', {
          position: { top: -12, left: 0 },
          html: `<span class="flow-count" data-flow="${id}">×${count}</span>`
        });
      }
    }
    const incident = instance.incident && instance.incident.element_id;
    if (incident) add(incident, 'incident');
    if (!focused) {
      focused = true;
      focus([...tokenIds].map((id) => registry.get(id)).filter(Boolean));
    }
    const diagram = $('diagram');
    diagram.dataset.done = done.sort().join(' ');
    diagram.dataset.open = tokens.filter((token) => token.state !== 'waiting').map((token) => token.element_id).sort().join(' ');
    diagram.dataset.waiting = tokens.filter((token) => token.state === 'waiting').map((token) => token.element_id).sort().join(' ');
    diagram.dataset.flows = Object.keys(flows).sort().map((id) => `${id}:${flows[id]}`).join(' ');
    diagram.dataset.incident = incident || '';
  }

  /** A large process fits only tiny: show the open tasks at a readable size instead (drag to pan). */
  function focus(elements) {
    const canvas = viewer.get('canvas');
    const box = canvas.viewbox();
    if (!elements.length || box.scale >= 0.6) return;
    const xs = elements.flatMap((e) => [e.x, e.x + e.width]);
    const ys = elements.flatMap((e) => [e.y, e.y + e.height]);
    const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
    const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
    const width = box.outer.width / 0.75;
    const height = box.outer.height / 0.75;
    canvas.viewbox({ x: cx - width / 2, y: cy - height / 2, width, height });
  }

  $('cancel-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = $('cancel-reason').value.trim();
    if (!reason) {
      $('cancel-reason').setAttribute('aria-invalid', 'true');
      showMessage($('instance-error'), t('instance.cancel_needs_reason'), 'error');
      $('cancel-reason').focus();
      return;
    }
    $('btn-cancel').disabled = true;
    try {
      await api('POST', `/api/v1/process-instances/${instanceId}/cancel`, { reason });
      $('cancel-reason').removeAttribute('aria-invalid');
      showMessage($('instance-error'), t('instance.cancelled'), 'info');
      await load();
    } catch (e) {
      showMessage($('instance-error'), t('common.error', { message: errorText(e) }), 'error');
    } finally {
      $('btn-cancel').disabled = false;
    }
  });

  window.OpsflowInstance = { reload: () => load(), elementName: (id) => elementName(id) };
  const refresh = debounce(() => load('live'), 150);
  live((type, event) => {
    if (type === 'ready' || event.instance_id === instanceId) refresh();
  });
  document.addEventListener('langchange', () => { if (detail) render(); });
  load();
})();
