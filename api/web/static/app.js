/* Shared by every page: the session (token in sessionStorage), calls to the JSON API, the header,
   live updates (server-sent events) and small DOM helpers. */
(function () {
  'use strict';
  const { t, lang, apply, setLang } = window.OpsflowI18n;
  const SESSION = 'opsflow.session';

  const session = {
    get() {
      try { return JSON.parse(sessionStorage.getItem(SESSION)); } catch (e) { return null; }
    },
    set(value) { sessionStorage.setItem(SESSION, JSON.stringify(value)); },
    clear() { sessionStorage.removeItem(SESSION); }
  };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ('HTTP ' + status));
      this.status = status;
      this.body = body || {};
      this.problems = (body && body.problems) || [];
    }
  }

  function toSignIn() {
    const next = location.pathname + location.search;
    location.assign('/signin?next=' + encodeURIComponent(next));
  }

  async function api(method, path, body, options) {
    options = options || {};
    const current = session.get();
    // The server words its errors in the page's language.
    const headers = { Accept: 'application/json', 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN, zh;q=0.9' };
    if (current && current.token) headers.Authorization = 'Bearer ' + current.token;
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload });
    const type = response.headers.get('content-type') || '';
    const data = response.status === 204 ? null : (type.includes('json') ? await response.json() : await response.text());
    if (response.status === 401 && !options.keepSession) {
      session.clear();
      toSignIn();
    }
    if (!response.ok) throw new ApiError(response.status, typeof data === 'object' ? data : { message: data });
    return data;
  }

  /** The signed-in user ({token, name, display_name, roles}); sends strangers to the sign-in page. */
  function requireUser() {
    const current = session.get();
    if (!current || !current.token) {
      toSignIn();
      return null;
    }
    return current;
  }

  function hasRole(...roles) {
    const current = session.get();
    return !!current && current.roles.some((r) => roles.includes(r));
  }

  /** el('a', {href: '/x', class: 'btn'}, 'text', child) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (name === 'text') node.textContent = value;
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmtDate(iso) {
    if (!iso) return t('common.none');
    const date = new Date(iso);
    return new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', {
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'
    }).format(date);
  }

  /** A due date. "Due by the end of 11 Dec" is stored as 12 Dec 00:00 UTC: show it as the day it is due. */
  function fmtDue(iso) {
    if (!iso) return t('common.none');
    const date = new Date(iso);
    if (date.getUTCHours() || date.getUTCMinutes() || date.getUTCSeconds() || date.getUTCMilliseconds()) return fmtDate(iso);
    const day = new Date(date.getTime() - 1);
    return new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'zh-CN', {
      year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC'
    }).format(day);
  }

  function label(prefix, value) {
    if (!value) return t('common.none');
    const key = prefix + '.' + value;
    return window.OpsflowI18n.has(key) ? t(key) : value;
  }

  function showMessage(node, text, kind) {
    if (!node) return;
    node.hidden = !text;
    node.textContent = text || '';
    node.classList.remove('alert-error', 'alert-success', 'alert-info');
    if (text) node.classList.add('alert-' + (kind || 'info'));
  }

  function errorText(error) {
    if (error instanceof ApiError) return error.message;
    return String((error && error.message) || error);
  }

  function announce(text) {
    const region = document.getElementById('live-status');
    if (!region) return;
    region.textContent = '';
    setTimeout(() => { region.textContent = text; }, 50);
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  const EVENT_TYPES = [
    'ready', 'instance_started', 'instance_completed', 'instance_cancelled', 'incident', 'task_created',
    'task_claimed', 'task_unclaimed', 'task_assigned', 'task_completed', 'task_cancelled'
  ];

  /** Live updates: calls onEvent(type, data) for each event the user may see; 'ready' on every
      (re)connection, so pages reload their data then and miss nothing. */
  async function live(onEvent) {
    const current = session.get();
    if (!current || typeof EventSource === 'undefined') return null;
    try {
      await api('POST', '/web/session');
    } catch (e) {
      return null;
    }
    const source = new EventSource('/web/events?user=' + encodeURIComponent(current.name));
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        let data = {};
        try { data = JSON.parse(event.data); } catch (e) { /* keep {} */ }
        document.body.dataset.liveCursor = event.lastEventId || '';
        onEvent(type, data);
      });
    }
    source.addEventListener('open', () => { document.body.dataset.live = 'open'; });
    source.addEventListener('error', () => { document.body.dataset.live = 'reconnecting'; });
    window.addEventListener('pagehide', () => source.close());
    return source;
  }

  async function signOut() {
    const current = session.get();
    try {
      await api('DELETE', '/api/v1/session', undefined, { keepSession: true });
      if (current) await fetch('/web/session?user=' + encodeURIComponent(current.name), { method: 'DELETE' });
    } catch (e) { /* signed out anyway */ }
    session.clear();
    location.assign('/signin?signed_out=1');
  }

  function initChrome() {
    const page = document.body.dataset.page;
    const current = session.get();
    const nav = document.getElementById('main-nav');
    document.getElementById('lang-switch').addEventListener('click', () => setLang(lang() === 'en' ? 'zh' : 'en'));
    if (current && page !== 'signin') {
      nav.hidden = false;
      nav.querySelectorAll('[data-role]').forEach((item) => {
        item.hidden = !current.roles.some((r) => item.dataset.role.split(' ').includes(r));
      });
      nav.querySelectorAll('[data-nav]').forEach((link) => {
        const active = link.dataset.nav === page || (page === 'task' && link.dataset.nav === 'inbox') ||
          (page === 'instance' && link.dataset.nav === 'instances') || (page === 'start' && link.dataset.nav === 'instances') ||
          (page.startsWith('admin-') && link.dataset.nav === 'admin');
        if (active) link.setAttribute('aria-current', 'page');
      });
      const who = document.getElementById('whoami');
      who.hidden = false;
      const renderWho = () => {
        who.textContent = (current.display_name || current.name) + ' · ' + current.roles.map((r) => label('role', r)).join(', ');
      };
      renderWho();
      document.addEventListener('langchange', renderWho);
      const out = document.getElementById('sign-out');
      out.hidden = false;
      out.addEventListener('click', signOut);
    }
    apply(document);
  }

  // A designer page's button action: disabled while it runs; problems go to `showProblems`,
  // other failures to the status line.
  async function runAction(button, status, showProblems, fn) {
    button.disabled = true;
    showMessage(status, '');
    try {
      await fn();
    } catch (e) {
      if (e.problems && e.problems.length) showProblems(e.problems);
      else showMessage(status, e.status === 403 ? t('designer.forbidden') : t('common.error', { message: errorText(e) }), 'error');
    } finally {
      button.disabled = false;
    }
  }

  window.Opsflow = {
    api, ApiError, session, requireUser, hasRole, el, fmtDate, fmtDue, label, showMessage, errorText, announce,
    debounce, live, t, lang, runAction
  };

  initChrome();
})();
