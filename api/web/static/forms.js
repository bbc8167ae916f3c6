/* form-js viewer helpers: the English labels of a schema (forms/README.md: properties.label_en, ...),
   a form on a container, and the server's validation problems shown at their fields. */
(function () {
  'use strict';
  const { t, lang, el } = window.Opsflow;

  function walk(components, fn) {
    for (const component of components || []) {
      fn(component);
      walk(component.components, fn);
    }
  }

  /** A copy of `schema` with English labels when English is selected. */
  function translateSchema(schema) {
    const copy = JSON.parse(JSON.stringify(schema));
    if (lang() !== 'en') return copy;
    walk(copy.components, (c) => {
      const p = c.properties || {};
      if (p.label_en) {
        if (c.type === 'datetime') c.dateLabel = p.label_en;
        else c.label = p.label_en;
      }
      if (p.timeLabel_en && c.type === 'datetime') c.timeLabel = p.timeLabel_en;
      if (p.description_en) c.description = p.description_en;
      if (p.text_en && c.type === 'text') c.text = p.text_en;
      if (Array.isArray(c.values)) {
        c.values = c.values.map((v) => {
          const english = p['option_en.' + v.value];
          return english ? { ...v, label: english } : v;
        });
      }
      if (p.patternErrorMessage_en && c.validate && c.validate.patternErrorMessage) {
        c.validate.patternErrorMessage = p.patternErrorMessage_en;
      }
    });
    return copy;
  }

  // form-js's (and the server's) English messages, in Chinese.
  const ZH_MESSAGES = [
    [/^Field is required\.$/, () => '此项为必填项。'],
    [/^Field must have minimum value of (.+)\.$/, (m) => `不能小于 ${m[1]}。`],
    [/^Field must have maximum value of (.+)\.$/, (m) => `不能大于 ${m[1]}。`],
    [/^Field must have minimum length of (.+)\.$/, (m) => `至少 ${m[1]} 个字符。`],
    [/^Field must have maximum length of (.+)\.$/, (m) => `最多 ${m[1]} 个字符。`],
    [/^Field must match pattern (.+)\.$/, (m) => `格式不正确（应符合 ${m[1]}）。`],
    [/^Value is expected to be an integer\.$/, () => '请输入整数。'],
    [/^Value is not a number\.$/, () => '请输入数字。'],
    [/^Field must be a valid email\.$/, () => '请输入有效的电子邮件地址。'],
    [/^Unknown field\.$/, () => '未知字段。'],
    [/^Date and time must both be entered\.$/, () => '日期和时间都需要填写。'],
    [/^The date is in the past: choose today or a later day\.$/, () => '日期已过：请选择今天或之后的日期。']
  ];

  function localMessage(message, component) {
    const p = (component && component.properties) || {};
    const v = (component && component.validate) || {};
    if (lang() === 'en') {
      if (p.patternErrorMessage_en && message === v.patternErrorMessage) return p.patternErrorMessage_en;
      return message;
    }
    for (const [pattern, make] of ZH_MESSAGES) {
      const match = pattern.exec(message);
      if (match) return make(match);
    }
    return message;
  }

  /** id -> component and value path ("team.user", indexes left out) -> component. */
  function indexSchema(schema) {
    const byId = {};
    const byPath = {};
    function visit(components, prefix) {
      for (const c of components || []) {
        byId[c.id] = c;
        let path = prefix;
        if (c.key && !['group', 'dynamiclist'].includes(c.type)) {
          byPath[[...prefix, ...c.key.split('.')].join('.')] = c;
        }
        if (c.path) {
          path = [...prefix, ...c.path.split('.')];
          byPath[path.join('.')] = c;
        }
        visit(c.components, path);
      }
    }
    visit(schema.components, []);
    return { byId, byPath };
  }

  /** Render `schema` with `data` into `container`. */
  // form-js writes these words itself, in English only (it has no translation service): in Chinese mode
  // they are replaced where they appear, as the form renders and re-renders.
  const FORMJS_TEXT_ZH = [
    [/^Add new$/, '添加一行'], [/^Collapse$/, '收起'], [/^Expand all \((\d+)\)$/, '展开全部（$1）'],
    [/^Select$/, '请选择'], [/^No results$/, '无匹配项'], [/^Search$/, '搜索'],
    [/^Remove list item (\d+)$/, '删除第 $1 行'], [/^Increment$/, '增加'], [/^Decrement$/, '减少'],
    [/^Previous page$/, '上一页'], [/^Next page$/, '下一页']
  ];

  function chinese(text) {
    const trimmed = text.trim();
    for (const [pattern, zh] of FORMJS_TEXT_ZH) if (pattern.test(trimmed)) return text.replace(trimmed, trimmed.replace(pattern, zh));
    return null;
  }

  function localizeFormJs(root) {
    if (lang() === 'en') return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const zh = chinese(node.nodeValue);
      if (zh !== null) node.nodeValue = zh;
    }
    for (const node of root.querySelectorAll('[placeholder], [aria-label]')) {
      for (const name of ['placeholder', 'aria-label']) {
        const zh = node.hasAttribute(name) ? chinese(node.getAttribute(name)) : null;
        if (zh !== null) node.setAttribute(name, zh);
      }
    }
  }

  async function createForm(container, schema, data, options) {
    options = options || {};
    container.replaceChildren();
    const form = new window.FormViewer.Form({ container });
    const index = indexSchema(schema);
    // form-js validates each field as it changes: show those messages in the page's language too.
    const validator = form.get('validator');
    const original = validator.validateFieldInstance.bind(validator);
    validator.validateFieldInstance = (instance, value) =>
      original(instance, value).map((m) => localMessage(m, index.byId[instance.id]));
    await form.importSchema(translateSchema(schema), data || {});
    localizeFormJs(container);
    new MutationObserver(() => localizeFormJs(container)).observe(container, {
      childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['placeholder', 'aria-label']
    });
    if (options.readOnly) form.setProperty('readOnly', true);
    form.opsflow = { schema, index };
    container.formjs = form;  // for tests and the curious
    return form;
  }

  /** The data form-js would submit: only the form's own fields (no other process variables). */
  function formData(form) {
    // _getSubmitData is form-js's own (internal) reading of the fields; submit() would also validate.
    return typeof form._getSubmitData === 'function' ? form._getSubmitData() : form.submit().data;
  }

  function indexesOf(path) {
    return [...String(path || '').matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  }

  function componentFor(form, problem) {
    const { index } = form.opsflow;
    if (problem.element_id && index.byId[problem.element_id]) return index.byId[problem.element_id];
    const bare = String(problem.path || '').replace(/\[\d+\]/g, '');
    return index.byPath[bare] || null;
  }

  function fieldNode(container, component, indexes) {
    const suffix = component.id + indexes.map((i) => '_' + i).join('');
    return container.querySelector(`[id$="-${CSS.escape(suffix)}"]`) ||
      container.querySelector(`[id*="-${CSS.escape(suffix)}-"]`);
  }

  /** Show the server's problems: at their fields (form-js's own error slots, so aria-describedby
      works and editing the field clears them) and as a list above the form. Returns the count. */
  function showProblems(form, container, summary, problems) {
    const errors = {};
    const items = [];
    for (const problem of problems) {
      const component = componentFor(form, problem);
      const message = localMessage(problem.message, component);
      const indexes = indexesOf(problem.path);
      if (component && component.type !== 'dynamiclist' && component.type !== 'group') {
        let slot = errors;
        const keys = [component.id, ...indexes];
        keys.forEach((key, i) => {
          if (i === keys.length - 1) {
            slot[key] = [...(slot[key] || []), message];
          } else {
            if (!slot[key]) slot[key] = [];
            slot = slot[key];
          }
        });
      }
      const name = component ? (component.label || component.dateLabel || component.key || component.path) : '';
      const labelText = component ? translatedLabel(component) : '';
      const where = labelText + (indexes.length ? ' #' + indexes.map((i) => i + 1).join('.') : '');
      const link = el('a', {
        href: '#',
        onclick: (event) => {
          event.preventDefault();
          const node = component && fieldNode(container, component, indexes);
          if (node) node.focus();
        }
      }, where || name || problem.path || '');
      items.push(el('li', null, where || name ? [link, ': '] : null, message));
    }
    form._setState({ errors });  // form-js has no public way to set errors (see notes/form-js.md)
    summary.replaceChildren(el('p', null, t('task.problems', { count: problems.length })), el('ul', null, items));
    summary.hidden = problems.length === 0;
    if (problems.length) summary.focus();
    return problems.length;
  }

  function translatedLabel(component) {
    const p = component.properties || {};
    if (lang() === 'en' && p.label_en) return p.label_en;
    return component.label || component.dateLabel || component.key || component.path || component.id;
  }

  function clearProblems(form, summary) {
    if (form) form._setState({ errors: {} });
    summary.hidden = true;
    summary.replaceChildren();
  }

  window.OpsflowForms = { translateSchema, createForm, formData, showProblems, clearProblems, localMessage, indexSchema };
})();
