/* Groups: create one (its id and its names in both languages), add and remove members, delete it
   (the groups that exist from the start cannot be deleted: the server says so). */
(function () {
  'use strict';
  const { api, el, t } = window.Opsflow;
  const { requireAdmin, say, fail, act, groupName } = window.OpsflowAdmin;
  if (!requireAdmin()) return;

  const form = document.getElementById('group-form');
  const rows = document.getElementById('group-rows');
  let groups = [];
  let users = [];

  async function load() {
    try {
      [groups, users] = await Promise.all([api('GET', '/api/v1/groups'), api('GET', '/api/v1/users')]);
      render();
    } catch (e) {
      fail(e);
    }
  }

  function member(group, name) {
    const path = `/api/v1/groups/${encodeURIComponent(group.id)}/members/${encodeURIComponent(name)}`;
    return el('li', { 'data-member': name }, name, ' ', el('button', {
      type: 'button', class: 'btn-link', 'data-action': 'remove-member',
      'aria-label': t('groups.remove_member', { name }),
      onclick: (event) => act(event.currentTarget, async () => {
        await api('DELETE', path);
        say(t('groups.removed', { name, group: groupName(group) }));
        await load();
      })
    }, '×'));
  }

  function adder(group) {
    const outside = users.filter((u) => !u.disabled && !group.members.includes(u.name));
    const select = el('select', { 'aria-label': t('groups.add_member'), 'data-field': 'new-member' },
      el('option', { value: '' }, t('common.none')),
      ...outside.map((u) => el('option', { value: u.name }, u.name)));
    return el('div', { class: 'row-actions' }, select, el('button', {
      type: 'button', class: 'btn btn-small', 'data-action': 'add-member',
      onclick: (event) => act(event.currentTarget, async () => {
        if (!select.value) return;
        const name = select.value;
        await api('PUT', `/api/v1/groups/${encodeURIComponent(group.id)}/members/${encodeURIComponent(name)}`);
        say(t('groups.added', { name, group: groupName(group) }));
        await load();
      })
    }, t('groups.add')));
  }

  function render() {
    rows.replaceChildren(...groups.map((group) => el('tr', { 'data-group': group.id },
      el('th', { scope: 'row' }, el('code', null, group.id)),
      el('td', null, groupName(group)),
      el('td', null, group.members.length
        ? el('ul', { class: 'plain-list', 'data-field': 'members' }, group.members.map((name) => member(group, name)))
        : el('span', { class: 'muted', 'data-field': 'members' }, t('groups.no_members'))),
      el('td', null, adder(group)),
      el('td', null, el('button', {
        type: 'button', class: 'btn btn-small', 'data-action': 'delete',
        onclick: (event) => act(event.currentTarget, async () => {
          await api('DELETE', '/api/v1/groups/' + encodeURIComponent(group.id));
          say(t('groups.deleted', { group: group.id }));
          await load();
        })
      }, t('groups.delete'))))));
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = {
      id: form.elements.id.value.trim(),
      name_zh: form.elements.name_zh.value.trim(),
      name_en: form.elements.name_en.value.trim()
    };
    act(form.querySelector('button[type=submit]'), async () => {
      await api('POST', '/api/v1/groups', body);
      form.reset();
      say(t('groups.created', { group: body.id }));
      await load();
    });
  });
  document.addEventListener('langchange', render);
  load();
})();
