/* Analytics page (leaders and admins): a process's figures over a period as a table, instances
   started / completed per week as an ECharts chart, a heatmap over the BPMN diagram (bpmn-js
   overlays: how often each step ran and its median duration, coloured by duration), and the
   handbook's goals against the measured effects. */
(function () {
  'use strict';
  const { api, requireUser, el, showMessage, t, errorText } = window.Opsflow;
  const user = requireUser();
  if (!user) return;

  window.OpsflowI18n.extend({
    zh: {
      'analytics.title': '流程分析',
      'analytics.process': '流程',
      'analytics.version': '版本',
      'analytics.all_versions': '全部版本',
      'analytics.from': '从',
      'analytics.to': '到（不含）',
      'analytics.refresh': '查看',
      'analytics.summary': '概况',
      'analytics.trend': '每周发起 / 完成',
      'analytics.heatmap': '热力图：各环节次数与耗时中位数',
      'analytics.heat_hint': '颜色越红，环节耗时（创建到完成）中位数越长。',
      'analytics.steps': '各环节',
      'analytics.col.step': '环节',
      'analytics.col.runs': '次数',
      'analytics.col.completed': '完成',
      'analytics.col.waiting': '等待 p50 / p90',
      'analytics.col.work': '处理 p50 / p90',
      'analytics.col.duration': '总耗时 p50 / p95',
      'analytics.col.overdue': '逾期占比',
      'analytics.loops': '返工回路',
      'analytics.col.loop': '回路',
      'analytics.col.from_to': '从 → 回到',
      'analytics.col.taken': '走过次数',
      'analytics.col.instances': '实例数',
      'analytics.goals': '手册：各次优化的目标与效果（表 2-1 对比阶段五）',
      'analytics.col.instance': '优化',
      'analytics.col.metric': '指标',
      'analytics.col.baseline': '基线',
      'analytics.col.target': '目标',
      'analytics.col.after': '实测（优化后）',
      'analytics.col.progress': '完成度',
      'analytics.col.achieved': '达标',
      'title.analytics': '流程分析', 'analytics.started': '发起', 'analytics.completed': '完成',
      'analytics.cancelled': '取消', 'analytics.cycle': '周期 p50 / p90 / p95', 'analytics.outcome': '结果：{outcome}',
      'analytics.chart_started': '发起', 'analytics.chart_completed': '完成', 'analytics.no_data': '这段时间没有数据。',
      'analytics.loop_other': '（图中无此回路）', 'analytics.yes': '是', 'analytics.no': '否',
      'analytics.chart_baseline': '基线', 'analytics.chart_target': '目标', 'analytics.chart_after': '实测',
      'unit.s': '{n} 秒', 'unit.min': '{n} 分钟', 'unit.h': '{n} 小时', 'unit.d': '{n} 天'
    },
    en: {
      'title.analytics': 'Analytics', 'analytics.title': 'Process analytics', 'analytics.process': 'Process',
      'analytics.version': 'Version', 'analytics.all_versions': 'All versions', 'analytics.from': 'From',
      'analytics.to': 'To (exclusive)', 'analytics.refresh': 'Show', 'analytics.summary': 'Overview',
      'analytics.trend': 'Started / completed per week',
      'analytics.heatmap': 'Heatmap: runs and median duration per step',
      'analytics.heat_hint': 'The redder a step, the longer its median duration (created to completed).',
      'analytics.steps': 'Steps', 'analytics.loops': 'Rework loops',
      'analytics.goals': 'Handbook: each optimization\'s goal against its effect (Table 2-1 vs stage 5)',
      'analytics.col.step': 'Step', 'analytics.col.runs': 'Runs', 'analytics.col.completed': 'Completed',
      'analytics.col.waiting': 'Waiting p50 / p90', 'analytics.col.work': 'Work p50 / p90',
      'analytics.col.duration': 'Duration p50 / p95', 'analytics.col.overdue': 'Overdue share',
      'analytics.col.loop': 'Loop', 'analytics.col.from_to': 'From → back to', 'analytics.col.taken': 'Times taken',
      'analytics.col.instances': 'Instances', 'analytics.col.instance': 'Optimization', 'analytics.col.metric': 'Metric',
      'analytics.col.baseline': 'Baseline', 'analytics.col.target': 'Target', 'analytics.col.after': 'Measured (after)',
      'analytics.col.progress': 'Progress', 'analytics.col.achieved': 'Reached',
      'analytics.started': 'Started', 'analytics.completed': 'Completed', 'analytics.cancelled': 'Cancelled',
      'analytics.cycle': 'Cycle time p50 / p90 / p95', 'analytics.outcome': 'Outcome: {outcome}',
      'analytics.chart_started': 'Started', 'analytics.chart_completed': 'Completed',
      'analytics.no_data': 'No data in this period.', 'analytics.loop_other': '(not a loop of the diagram)',
      'analytics.yes': 'yes', 'analytics.no': 'no',
      'analytics.chart_baseline': 'Baseline', 'analytics.chart_target': 'Target', 'analytics.chart_after': 'Measured',
      'unit.s': '{n} s', 'unit.min': '{n} min', 'unit.h': '{n} h', 'unit.d': '{n} d'
    }
  });
  window.OpsflowI18n.apply(document);

  const $ = (id) => document.getElementById(id);
  const DAY = 86400000;
  let viewer = null;
  let shownXml = null;
  let trendChart = null;
  let goalsChart = null;
  let figures = null;
  let goals = null;

  function duration(seconds) {
    if (seconds == null) return t('common.none');
    const round = (n) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);
    if (seconds < 60) return t('unit.s', { n: round(seconds) });
    if (seconds < 3600) return t('unit.min', { n: round(seconds / 60) });
    if (seconds < 86400) return t('unit.h', { n: round(seconds / 3600) });
    return t('unit.d', { n: round(seconds / 86400) });
  }
  const pair = (p, a, b) => `${duration(p[a])} / ${duration(p[b])}`;
  const share = (x) => (x == null ? t('common.none') : `${Math.round(x * 1000) / 10}%`);
  const day = (date) => date.toISOString().slice(0, 10);

  async function init() {
    const today = new Date();
    $('an-to').value = day(new Date(today.getTime() + DAY));
    $('an-from').value = day(new Date(today.getTime() - 84 * DAY));
    try {
      const definitions = await api('GET', '/api/v1/process-definitions');
      for (const d of definitions) $('an-process').append(el('option', { value: d.key, text: d.name || d.key }));
      const wanted = new URLSearchParams(location.search).get('process');
      if (wanted) $('an-process').value = wanted;
      await loadVersions();
    } catch (e) {
      showMessage($('analytics-error'), t('common.error', { message: errorText(e) }), 'error');
      return;
    }
    $('an-process').addEventListener('change', async () => { await loadVersions(); await load(); });
    $('analytics-form').addEventListener('submit', (event) => { event.preventDefault(); load(); });
    document.addEventListener('langchange', () => { if (figures) render(); if (goals) renderGoals(); });
    await Promise.all([load(), loadGoals()]);
  }

  async function loadVersions() {
    const select = $('an-version');
    select.querySelectorAll('option[value]:not([value=""])').forEach((o) => o.remove());
    const key = $('an-process').value;
    if (!key) return;
    const versions = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(key)}/versions`);
    for (const v of versions) select.append(el('option', { value: String(v.version), text: t('common.version', { version: v.version }) }));
  }

  async function load() {
    const key = $('an-process').value;
    if (!key) return;
    const params = new URLSearchParams({ from: $('an-from').value + 'T00:00:00Z', to: $('an-to').value + 'T00:00:00Z' });
    if ($('an-version').value) params.set('version', $('an-version').value);
    try {
      figures = await api('GET', `/api/v1/analytics/processes/${encodeURIComponent(key)}?${params}`);
    } catch (e) {
      showMessage($('analytics-error'), t('common.error', { message: errorText(e) }), 'error');
      return;
    }
    $('analytics-error').hidden = true;
    $('analytics-view').hidden = false;
    render();
    await renderHeatmap();
    document.body.dataset.analyticsLoaded = `${figures.process_key}:${figures.started}`;
  }

  async function loadGoals() {
    try {
      goals = await api('GET', '/api/v1/analytics/handbook-goals');
    } catch (e) {
      return;  // the process figures still serve
    }
    $('goals-section').hidden = goals.length === 0;
    renderGoals();
  }

  function render() {
    const f = figures;
    const summary = $('an-summary');
    summary.replaceChildren();
    const item = (name, key, value) => summary.append(el('div', { dataset: { figure: name } }, el('dt', { text: key }), el('dd', { text: value })));
    item('started', t('analytics.started'), f.started);
    item('completed', t('analytics.completed'), f.completed);
    item('cancelled', t('analytics.cancelled'), f.cancelled);
    for (const [outcome, n] of Object.entries(f.outcomes)) {
      item('outcome-' + outcome, t('analytics.outcome', { outcome: window.Opsflow.label('outcome', outcome) }), n);
    }
    const c = f.cycle_time;
    item('cycle', t('analytics.cycle'), `${duration(c.p50)} / ${duration(c.p90)} / ${duration(c.p95)}`);

    const steps = $('an-steps').querySelector('tbody');
    steps.replaceChildren(...f.steps.map((s) => el('tr', { dataset: { element: s.element_id } },
      el('th', { scope: 'row', text: s.name || s.element_id }),
      el('td', { text: s.runs }), el('td', { text: s.completed }),
      el('td', { text: pair(s.waiting, 'p50', 'p90') }), el('td', { text: pair(s.work, 'p50', 'p90') }),
      el('td', { text: pair(s.duration, 'p50', 'p95') }), el('td', { text: share(s.overdue_share) }))));
    if (!f.steps.length) steps.append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: t('analytics.no_data') })));

    const loops = $('an-loops').querySelector('tbody');
    loops.replaceChildren(...f.loops.map((l) => el('tr', { dataset: { flow: l.flow_id || '' } },
      el('th', { scope: 'row', text: l.flow_id ? (l.name || l.flow_id) : t('analytics.loop_other') }),
      el('td', { text: `${stepName(l.from_element)} → ${stepName(l.to_element)}` }),
      el('td', { text: l.taken }), el('td', { text: l.instances }))));

    renderTrend();
  }

  function stepName(id) {
    const step = figures.steps.find((s) => s.element_id === id);
    if (step && step.name) return step.name;
    const element = viewer && viewer.get('elementRegistry').get(id);
    return (element && element.businessObject.name) || id;
  }

  function renderTrend() {
    if (!window.echarts) return;
    const node = $('trend-chart');
    if (!trendChart) trendChart = window.echarts.init(node);
    const weeks = figures.trend.map((w) => w.week);
    trendChart.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: [t('analytics.chart_started'), t('analytics.chart_completed')] },
      xAxis: { type: 'category', data: weeks },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: t('analytics.chart_started'), type: 'bar', data: figures.trend.map((w) => w.started) },
        { name: t('analytics.chart_completed'), type: 'line', data: figures.trend.map((w) => w.completed) }
      ]
    }, true);
    node.dataset.weeks = figures.trend.map((w) => `${w.week}:${w.started}/${w.completed}`).join(' ');
  }

  async function renderHeatmap() {
    if (!window.BpmnJS) return;
    const key = figures.process_key;
    const wanted = `${key}@${figures.diagram_version}`;
    if (shownXml !== wanted) {
      const xml = await api('GET', `/api/v1/process-definitions/${encodeURIComponent(key)}/xml?version=${figures.diagram_version}`);
      if (!viewer) viewer = new window.BpmnJS({ container: '#heatmap' });
      try {
        await viewer.importXML(xml);
      } catch (e) {  // no diagram (BPMNDI) in the model: the table still has the figures
        $('heatmap').dataset.error = errorText(e);
        return;
      }
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      shownXml = wanted;
    }
    const overlays = viewer.get('overlays');
    const registry = viewer.get('elementRegistry');
    overlays.remove({ type: 'heat' });
    const medians = figures.steps.map((s) => s.duration.p50).filter((v) => v != null);
    const longest = Math.max(1, ...medians);
    const drawn = [];
    for (const s of figures.steps) {
      if (!registry.get(s.element_id)) continue;
      const median = s.duration.p50;
      const hue = median == null ? 0 : Math.round(120 * (1 - median / longest));  // green (quick) to red (slow)
      const badge = el('div', {
        class: 'heat',
        dataset: { element: s.element_id, runs: s.runs, median: median == null ? '' : Math.round(median) },
        text: `×${s.runs} · ${duration(median)}`
      });
      badge.style.background = median == null ? '#ddd' : `hsl(${hue} 75% 68%)`;
      overlays.add(s.element_id, 'heat', { position: { bottom: 4, left: 2 }, html: badge });
      drawn.push(s.element_id);
    }
    $('heatmap').dataset.steps = drawn.join(' ');
  }

  function renderGoals() {
    const body = $('an-goals').querySelector('tbody');
    const number = (x, unit) => (x == null ? t('common.none') : `${x}${unit || ''}`);
    body.replaceChildren(...goals.map((g) => el('tr', { dataset: { instance: g.instance_id } },
      el('th', { scope: 'row' }, el('a', { href: '/instances/' + g.instance_id, text: g.business_key || g.instance_id.slice(0, 8) })),
      el('td', { text: g.metric || t('common.none') }),
      el('td', { text: number(g.baseline, g.unit) }), el('td', { text: number(g.target, g.unit) }),
      el('td', { text: number(g.after, g.unit) }), el('td', { text: share(g.progress) }),
      el('td', { text: g.achieved == null ? t('common.none') : t(g.achieved ? 'analytics.yes' : 'analytics.no') }))));
    if (!window.echarts || !goals.length) return;
    if (!goalsChart) goalsChart = window.echarts.init($('goals-chart'));
    const names = goals.map((g) => g.business_key || g.instance_id.slice(0, 8));
    const series = (label, field) => ({ name: t(label), type: 'bar', data: goals.map((g) => g[field]) });
    goalsChart.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: [t('analytics.chart_baseline'), t('analytics.chart_target'), t('analytics.chart_after')] },
      xAxis: { type: 'category', data: names },
      yAxis: { type: 'value' },
      series: [series('analytics.chart_baseline', 'baseline'), series('analytics.chart_target', 'target'), series('analytics.chart_after', 'after')]
    }, true);
  }

  window.addEventListener('resize', () => { if (trendChart) trendChart.resize(); if (goalsChart) goalsChart.resize(); });
  init();
})();
