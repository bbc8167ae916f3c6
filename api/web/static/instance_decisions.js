/* Instance page, decisions: what each business rule task decided (the decision and version, the
   inputs it saw, the rules that matched, the result). Re-read whenever the instance page reloads. */
(function () {
  'use strict';
  const { api, el, fmtDate, t } = window.Opsflow;
  const root = document.getElementById('instance-root');
  if (!root || !window.Opsflow.requireUser()) return;
  const instanceId = root.dataset.instanceId;
  let shown = null;

  const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
  const pairs = (object) => Object.entries(object || {}).map(([key, value]) => `${key} = ${text(value)}`).join('; ');

  async function load() {
    let evaluations;
    try {
      evaluations = await api('GET', '/api/v1/decisions/evaluations?instance_id=' + encodeURIComponent(instanceId));
    } catch (e) {
      return;  // the instance page shows why the instance cannot be read
    }
    const key = JSON.stringify(evaluations);
    if (key === shown) return;
    shown = key;
    document.getElementById('decisions').hidden = evaluations.length === 0;
    document.getElementById('decision-list').replaceChildren(...evaluations.map((e) => el('li', { 'data-decision': e.decision_key, 'data-element-id': e.element_id || '' },
      el('strong', null, `${e.decision_name} · ${t('common.version', { version: e.decision_version })}`),
      el('div', { class: 'muted' }, fmtDate(e.at)),
      el('div', null, `${t('decisions.inputs')}: ${pairs(e.inputs)}`),
      el('div', { 'data-matched': e.matched_rules.map((r) => r.rule_id).join(' ') },
        `${t('decisions.matched')}: ${e.matched_rules.map((r) => '#' + r.index).join(', ') || '-'}`),
      el('div', null, `${t('decisions.result')}: ${e.result.map(pairs).join(' | ') || '-'}`))));
  }

  load();
  new MutationObserver(load).observe(document.body, { attributes: true, attributeFilter: ['data-instance-loaded'] });
})();
