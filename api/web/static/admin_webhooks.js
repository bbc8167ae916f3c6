/* Webhooks: subscribe a URL to event types (the secret is shown once), pause, resume or delete a
   subscription, read its delivery log and ask for a redelivery. */
(function () {
  'use strict';
  const { api, el, fmtDate, t } = window.Opsflow;
  const { requireAdmin, say, fail, act, checked } = window.OpsflowAdmin;
  if (!requireAdmin()) return;

  const form = document.getElementById('hook-form');
  const rows = document.getElementById('hook-rows');
  const panel = document.getElementById('deliveries');
  let hooks = [];
  let shown = null; // the subscription whose deliveries are open
  let deliveries = [];

  async function load() {
    try {
      hooks = await api('GET', '/api/v1/webhooks');
      render();
      if (shown) await loadDeliveries(shown);
    } catch (e) {
      fail(e);
    }
  }

  async function loadDeliveries(hook) {
    shown = hook;
    deliveries = (await api('GET', `/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=100`)).items;
    renderDeliveries();
  }

  function button(action, text, fn) {
    return el('button', {
      type: 'button', class: 'btn btn-small', 'data-action': action,
      onclick: (event) => act(event.currentTarget, fn)
    }, text);
  }

  function render() {
    rows.replaceChildren(...hooks.map((hook) => el('tr', { 'data-webhook-id': hook.id, 'data-url': hook.url },
      el('th', { scope: 'row' }, el('code', null, hook.url)),
      el('td', null, hook.event_types.map((type) => el('code', null, type, ' '))),
      el('td', { 'data-field': 'status' }, el('span', { class: 'badge ' + (hook.active ? 'badge-ok' : 'badge-muted') },
        t(hook.active ? 'hooks.active' : 'hooks.inactive'))),
      el('td', null, fmtDate(hook.created_at)),
      el('td', null, el('div', { class: 'row-actions' },
        button('deliveries', t('hooks.show_deliveries'), () => loadDeliveries(hook)),
        button(hook.active ? 'pause' : 'resume', t(hook.active ? 'hooks.pause' : 'hooks.resume'), async () => {
          await api('PATCH', '/api/v1/webhooks/' + encodeURIComponent(hook.id), { active: !hook.active });
          say(t('admin.saved'));
          await load();
        }),
        button('delete', t('hooks.delete'), async () => {
          await api('DELETE', '/api/v1/webhooks/' + encodeURIComponent(hook.id));
          if (shown && shown.id === hook.id) { shown = null; panel.hidden = true; }
          say(t('hooks.deleted'));
          await load();
        }))))));
    document.getElementById('hooks-empty').hidden = hooks.length > 0;
  }

  function result(d) {
    return d.delivered ? t('hooks.delivered', { status: d.status_code })
      : t('hooks.failed', { error: d.error || d.status_code || t('common.none') });
  }

  function renderDeliveries() {
    if (!shown) return;
    panel.hidden = false;
    document.getElementById('deliveries-url').textContent = shown.url;
    document.getElementById('delivery-rows').replaceChildren(...deliveries.map((d) => el('tr', {
      'data-event-id': d.event_id, 'data-attempt': d.attempt, 'data-delivered': String(d.delivered)
    },
    el('td', null, fmtDate(d.at)),
    el('td', null, el('code', null, d.event_type), ' ', el('span', { class: 'muted' }, d.event_id)),
    el('td', null, String(d.attempt)),
    el('td', null, el('span', { class: 'badge ' + (d.delivered ? 'badge-ok' : 'badge-warn') }, result(d))),
    el('td', null, button('redeliver', t('hooks.redeliver'), async () => {
      const hook = shown;
      await api('POST', `/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(d.event_id)}/redeliver`);
      say(t('hooks.redelivery_queued', { event: d.event_id }));
      await loadDeliveries(hook);
    })))));
    document.getElementById('deliveries-empty').hidden = deliveries.length > 0;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { url: form.elements.url.value.trim(), event_types: checked(form, 'event_types') };
    act(form.querySelector('button[type=submit]'), async () => {
      const created = await api('POST', '/api/v1/webhooks', body);
      form.reset();
      document.getElementById('hook-secret-value').textContent = created.secret;
      document.getElementById('hook-secret').hidden = false;
      await load();
    });
  });
  document.addEventListener('langchange', () => { render(); renderDeliveries(); });
  load();
})();
