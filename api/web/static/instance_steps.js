/* Instance page: a click on a step of the diagram (or on a step in the history) shows, below the
   diagram, each time the step ran: who held and completed it, when, how long it waited and took,
   and the data it submitted (only to whoever may read that task: the answer says so). */
(function () {
  'use strict';
  const root = document.getElementById('instance-root');
  if (!root) return;
  const { api, el, fmtDate, t, errorText, showMessage } = window.Opsflow;
  const instanceId = root.dataset.instanceId;
  const $ = (id) => document.getElementById(id);

  window.OpsflowI18n.extend({
    zh: {
      'steps.hint': '点击流程图上的环节，查看每次由谁办理、何时办理、提交了什么。',
      'steps.close': '关闭', 'steps.run': '第 {n} 次', 'steps.created': '开始', 'steps.taken_up': '认领',
      'steps.completed': '完成', 'steps.open': '尚未完成', 'steps.held_by': '{who} 办理中', 'steps.unclaimed': '无人认领',
      'steps.by_at': '{who} · {at}', 'steps.waiting': '等待', 'steps.work': '办理', 'steps.overdue': '逾期',
      'steps.data': '提交的数据', 'steps.no_data': '没有提交数据。', 'steps.not_readable': '你无权查看此任务提交的数据。',
      'steps.none': '此环节在本实例中没有执行记录（只记录用户任务和服务任务）。', 'steps.engine': '系统',
      'steps.unit.s': '{n} 秒', 'steps.unit.min': '{n} 分钟', 'steps.unit.h': '{n} 小时', 'steps.unit.d': '{n} 天',
      'steps.before_history': '开始时间未记录（服务任务）'
    },
    en: {
      'steps.hint': 'Click a step of the diagram to see who did it each time, when, and what they submitted.',
      'steps.close': 'Close', 'steps.run': 'Run {n}', 'steps.created': 'Started', 'steps.taken_up': 'Taken up',
      'steps.completed': 'Completed', 'steps.open': 'not completed yet', 'steps.held_by': 'held by {who}',
      'steps.unclaimed': 'not claimed', 'steps.by_at': '{who} · {at}', 'steps.waiting': 'Waited',
      'steps.work': 'Worked', 'steps.overdue': 'overdue', 'steps.data': 'Data submitted',
      'steps.no_data': 'No data was submitted.', 'steps.not_readable': 'You may not read the data this task submitted.',
      'steps.none': 'This step has not run in this instance (only user and service tasks are recorded).',
      'steps.engine': 'the system',
      'steps.unit.s': '{n} s', 'steps.unit.min': '{n} min', 'steps.unit.h': '{n} h', 'steps.unit.d': '{n} d',
      'steps.before_history': 'start not recorded (a service task)'
    }
  });

  window.OpsflowI18n.apply(document);  // the panel's own words in the page, now that they are known

  let shown = null;  // {elementId, name, runs}
  let asked = 0;  // the latest request: an older answer arriving late is dropped

  function duration(seconds) {
    if (seconds == null) return t('common.none');
    const round = (n) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);
    if (seconds < 60) return t('steps.unit.s', { n: round(seconds) });
    if (seconds < 3600) return t('steps.unit.min', { n: round(seconds / 60) });
    if (seconds < 86400) return t('steps.unit.h', { n: round(seconds / 3600) });
    return t('steps.unit.d', { n: round(seconds / 86400) });
  }

  const forms = new Map();  // form key -> Promise of {fields: key -> the form's component}

  /** The labels of a form's fields and of their options, for showing submitted data in people's words. */
  function formLabels(key) {
    if (!key) return Promise.resolve(null);
    if (!forms.has(key)) {
      forms.set(key, api('GET', '/api/v1/forms/' + encodeURIComponent(key)).then((form) => {
        const fields = {};
        const walk = (components) => (components || []).forEach((c) => {
          if (c.key) fields[c.key] = c;
          walk(c.components);
        });
        walk(form.schema && form.schema.components);
        return { fields };
      }).catch(() => null));  // no labels: the keys serve
    }
    return forms.get(key);
  }

  /** A field's label in the page's language (the handbook's forms carry English in label_en). */
  function fieldLabel(c) {
    const english = window.OpsflowI18n.lang() === 'en' && c.properties && c.properties.label_en;
    return english || c.label || c.key;
  }

  function optionLabel(c, x) {
    const english = window.OpsflowI18n.lang() === 'en' && c.properties && c.properties['option_en.' + x];
    const found = (c.values || []).find((o) => String(o.value) === String(x));
    return english || (found && found.label) || String(x);
  }

  function value(v, field) {
    if (v == null || v === '') return t('common.none');
    const option = (x) => (field ? optionLabel(field, x) : String(x));
    if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object')) return v.map(option).join(', ');
    return typeof v === 'object' ? JSON.stringify(v, null, 2) : option(v);
  }

  function item(key, text, name) {
    return el('div', { 'data-field': name }, el('dt', null, t(key)), el('dd', null, text));
  }

  function runView(run, labels) {
    const field = (k) => (labels && labels.fields[k]) || null;
    const who = (name) => name || t('steps.engine');
    const fields = [
      item('steps.created', run.created_at ? fmtDate(run.created_at) : t('steps.before_history'), 'created'),
      item('steps.taken_up', run.claimed_at ? t('steps.by_at', { who: run.claimed_by, at: fmtDate(run.claimed_at) })
        : t('steps.unclaimed'), 'taken_up'),
      item('steps.completed', run.completed_at ? t('steps.by_at', { who: who(run.completed_by), at: fmtDate(run.completed_at) })
        : (run.assignee ? t('steps.held_by', { who: run.assignee }) : t('steps.open')), 'completed')
    ];
    if (run.waiting_seconds != null) fields.push(item('steps.waiting', duration(run.waiting_seconds), 'waiting'));
    if (run.work_seconds != null) fields.push(item('steps.work', duration(run.work_seconds), 'work'));
    let data = null;
    if (run.completed_at && !run.data_readable) {
      data = el('p', { class: 'muted', 'data-data': 'hidden' }, t('steps.not_readable'));
    } else if (run.data && Object.keys(run.data).length) {
      data = el('div', { 'data-data': 'shown' }, el('h4', null, t('steps.data')),
        el('dl', { class: 'step-data' }, ...Object.entries(run.data).flatMap(([k, v]) => [
          el('dt', { title: k }, field(k) ? fieldLabel(field(k)) : k), el('dd', { 'data-key': k }, value(v, field(k)))])));
    } else if (run.completed_at) {
      data = el('p', { class: 'muted', 'data-data': 'none' }, t('steps.no_data'));
    }
    return el('li', { 'data-run': String(run.run), 'data-task-id': run.task_id },
      el('h3', null, t('steps.run', { n: run.run }), run.overdue ? el('span', { class: 'badge badge-warn' }, ' ' + t('steps.overdue')) : ''),
      el('dl', { class: 'meta' }, ...fields),
      data);
  }

  function render() {
    if (!shown) return;
    const panel = $('step-panel');
    $('step-title').textContent = shown.name || shown.elementId;
    $('step-element').textContent = shown.elementId;
    const empty = shown.runs.length === 0;
    $('step-empty').hidden = !empty;
    $('step-empty').textContent = empty ? t('steps.none') : '';
    $('step-runs').replaceChildren(...shown.runs.map((run) => runView(run, shown.labels[run.form_key])));
    panel.dataset.element = shown.elementId;
    panel.dataset.runs = String(shown.runs.length);
    panel.hidden = false;
  }

  async function show(elementId, name, { quiet } = {}) {
    const mine = ++asked;
    let runs;
    try {
      runs = await api('GET', `/api/v1/process-instances/${instanceId}/elements/${encodeURIComponent(elementId)}/executions`);
    } catch (e) {
      if (mine !== asked) return;
      $('step-panel').hidden = false;
      showMessage($('step-error'), t('common.error', { message: errorText(e) }), 'error');
      return;
    }
    const keys = [...new Set(runs.filter((r) => r.data).map((r) => r.form_key).filter(Boolean))];
    const labels = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await formLabels(k)])));
    if (mine !== asked) return;
    showMessage($('step-error'), '', 'error');
    shown = { elementId, name: name || (runs[0] && runs[0].name) || elementId, runs, labels };
    render();
    if (!quiet) {
      $('step-panel').scrollIntoView({ block: 'nearest' });
      $('step-title').focus({ preventScroll: true });
    }
  }

  /** Shapes that stand for something that runs: not lanes, pools, flows, labels or the process. */
  function runnable(element) {
    if (!element || element.waypoints || element.type === 'label') return false;
    return !['bpmn:Process', 'bpmn:Collaboration', 'bpmn:Participant', 'bpmn:Lane'].includes(element.type);
  }

  document.addEventListener('instance:diagram', (event) => {
    event.detail.viewer.on('element.click', (e) => {
      if (runnable(e.element)) show(e.element.id, e.element.businessObject && e.element.businessObject.name);
    });
  });
  document.addEventListener('instance:step', (event) => show(event.detail.elementId, event.detail.name));
  // the instance moved on (live updates): the runs shown may have changed too
  document.addEventListener('instance:loaded', () => { if (shown) show(shown.elementId, shown.name, { quiet: true }); });
  document.addEventListener('langchange', render);
  $('step-close').addEventListener('click', () => {
    shown = null;
    asked++;
    $('step-panel').hidden = true;
  });
})();
