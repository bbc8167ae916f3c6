/* Page chrome in Chinese (default) and English. Elements carry data-i18n="key" (text) or
   data-i18n-aria-label="key"; scripts call OpsflowI18n.t(key, {var: value}). */
(function () {
  'use strict';

  const DICT = {
    zh: {
      'nav.skip': '跳到正文', 'nav.label': '主导航', 'nav.inbox': '待办', 'nav.instances': '流程实例',
      'nav.designer': '流程设计', 'nav.forms': '表单设计', 'nav.signout': '退出', 'nav.admin': '系统管理',
      'nav.notifications': '通知渠道', 'nav.preferences': '通知设置', 'nav.analytics': '流程分析',
      'title.notifications': '通知渠道', 'title.preferences': '通知设置',
      'vendor.missing': '浏览器组件未安装：请先运行 make setup（npm ci）。',
      'title.signin': '登录', 'title.inbox': '我的待办', 'title.task': '任务', 'title.start': '发起流程',
      'title.instances': '流程实例', 'title.instance': '流程实例', 'title.designer': '流程设计',
      'title.forms': '表单设计',
      'common.all': '全部', 'common.loading': '加载中…', 'common.none': '—', 'common.open': '打开',
      'common.error': '出错了：{message}', 'common.updated': '已更新', 'common.version': '版本 {version}',
      'signin.title': '登录', 'signin.name': '用户名', 'signin.password': '密码', 'signin.submit': '登录',
      'signin.failed': '用户名或密码错误。', 'signin.signed_out': '已退出。',
      'signin.or': '或', 'signin.sso': '通过 {provider} 登录', 'signin.sso_failed': '单点登录失败（{reason}）：请重试或联系管理员。',
      'signin.sso_refused.unknown_user': '你在 opsflow 还没有账号，请联系管理员。', 'signin.sso_refused.disabled': '你的账号已停用。',
      'inbox.title': '我的待办', 'inbox.mine': '我的任务', 'inbox.offered': '待认领', 'inbox.filters': '筛选',
      'inbox.process': '流程', 'inbox.stage': '阶段', 'inbox.business_key': '业务编号', 'inbox.overdue': '只看逾期',
      'inbox.sort': '排序', 'inbox.empty': '没有任务。', 'inbox.start': '发起运营优化',
      'inbox.claim': '认领', 'inbox.updated': '待办已更新：{mine} 个我的任务，{offered} 个待认领',
      'inbox.overdue_badge': '逾期',
      'sort.created': '创建时间（早→晚）', 'sort.-created': '创建时间（晚→早）',
      'sort.due': '截止时间（早→晚）', 'sort.-due': '截止时间（晚→早）',
      'col.task': '任务', 'col.business_key': '业务编号', 'col.stage': '阶段', 'col.process': '流程',
      'col.created': '创建', 'col.due': '截止', 'col.assignee': '处理人', 'col.actions': '操作',
      'col.instance': '实例', 'col.version': '版本', 'col.status': '状态', 'col.started_by': '发起人',
      'col.started_at': '发起时间', 'col.when': '时间', 'col.who': '人员', 'col.what': '事件',
      'col.element': '环节', 'col.user': '成员', 'col.role': '角色', 'col.duty': '职责',
      'stage.kickoff': '优化启动', 'stage.diagnosis': '深度诊断', 'stage.design': '方案设计',
      'stage.execution': '方案执行', 'stage.evaluation': '效果评估', 'stage.rollout': '推广与标准化',
      'role.leader': '组长', 'role.data': '数据组', 'role.execution': '执行组', 'role.support': '支持组',
      'role.designer': '流程设计', 'role.admin': '管理员',
      'status.running': '进行中', 'status.completed': '已完成', 'status.cancelled': '已取消',
      'outcome.keep_observing': '持续观察', 'outcome.stopped': '已终止', 'outcome.optimized': '已优化',
      'event.instance_started': '发起流程', 'event.instance_completed': '流程结束',
      'event.instance_cancelled': '流程取消', 'event.task_created': '任务到达', 'event.task_claimed': '认领任务',
      'event.task_unclaimed': '放弃认领', 'event.task_assigned': '指派任务', 'event.task_completed': '完成任务',
      'event.task_cancelled': '任务取消', 'event.incident': '异常',
      'task.form': '表单', 'task.context': '背景', 'task.claim': '认领', 'task.unclaim': '放弃认领',
      'task.save_draft': '保存草稿', 'task.complete': '提交完成', 'task.assignee': '处理人',
      'task.assign': '指派', 'task.assign_to': '交给', 'task.assigned': '已指派给 {user}。',
      'task.candidates': '可处理', 'task.stage': '阶段', 'task.due': '截止', 'task.created': '创建',
      'task.business_key': '业务编号', 'task.process': '流程',
      'task.state_mine': '我已认领', 'task.state_offered': '待认领', 'task.state_other': '{user} 已认领', 'task.state_readonly': '只读',
      'task.claimed': '已认领此任务。', 'task.unclaimed': '已放弃认领。', 'task.draft_saved': '草稿已保存。',
      'task.done': '任务已完成。', 'task.next': '接下来：',
      'task.next_waiting': '接下来没有待办任务：流程在等待外部系统或定时器。', 'task.instance_finished': '流程已结束。', 'task.back_inbox': '返回待办',
      'task.see_instance': '查看流程实例', 'task.problems': '请修改以下 {count} 处问题：',
      'task.not_open': '此任务已不再待办（已完成或已取消）。',
      'task.taken': '此任务刚被 {user} 认领。', 'task.gone': '此任务已被他人完成或取消。',
      'task.readonly': '此任务由 {user} 处理，你只能查看。', 'task.no_form': '此任务没有表单。',
      'context.trigger': '触发与问题', 'context.goal': '目标', 'context.goal_text': '{metric}：{baseline} → {target} {unit}',
      'context.earlier': '已完成的环节', 'context.none': '暂无已完成的环节。', 'context.by': '{actor} · {at}',
      'start.title': '发起流程', 'start.business_key': '业务编号（可选）', 'start.submit': '发起',
      'start.started': '流程已发起。', 'start.forbidden': '只有组长和管理员可以发起流程。',
      'instances.title': '流程实例', 'instances.status': '状态', 'instances.empty': '没有流程实例。',
      'instances.start': '发起 {name}',
      'instances.has_incident': '有故障', 'instances.overdue': '已逾期', 'instances.current': '当前环节',
      'instances.prev': '上一页', 'instances.next': '下一页', 'instances.pages': '分页', 'instances.page_info': '第 {from}–{to} 条，共 {total} 条',
      'instances.waiting_approval': '等待审批系统', 'instances.waiting_message': '等待消息 {message}', 'instances.waiting_timer': '定时器 {due}',
      'instances.incident': '故障', 'instances.overdue_badge': '逾期', 'instances.due': '截止 {due}',
      'instance.diagram': '流程图', 'instance.legend_done': '已完成', 'instance.legend_open': '进行中的任务',
      'instance.cancel_title': '取消流程', 'instance.cancel_reason': '取消原因', 'instance.cancel': '取消流程',
      'instance.cancel_hint': '取消后流程不可恢复，原因记入审计日志。', 'instance.cancel_needs_reason': '请填写取消原因。', 'instance.cancelled': '流程已取消。',
      'instance.legend_waiting': '等待消息或定时器', 'instance.legend_incident': '故障', 'instance.legend_count': '走过的次数',
      'instance.history': '历史', 'instance.open_tasks': '待办任务', 'instance.team': '团队',
      'instance.no_team': '尚未组建团队。', 'instance.no_open': '没有待办任务。', 'instance.started_by': '发起人',
      'instance.started_at': '发起时间', 'instance.ended_at': '结束时间', 'instance.outcome': '结果',
      'instance.business_key': '业务编号', 'instance.version': '版本', 'instance.incident': '异常：{message}',
      'instance.unassigned': '待认领', 'instance.documents': '文档',
      'status.suspended': '已挂起',
      'console.migrate_title': '迁移到其他版本', 'console.migrate_version': '目标版本', 'console.migrate_mapping': '改名的环节（JSON，旧 id → 新 id，可选）',
      'console.migrate': '迁移', 'console.migrated': '已迁移到新版本。', 'event.instance_migrated': '版本迁移',
      'migration.title': '版本迁移', 'migration.hint': '把筛选出的进行中或已挂起的实例迁移到所选流程的另一个版本：先检查，再迁移。',
      'migration.target': '目标版本', 'migration.check': '检查', 'migration.start': '迁移', 'migration.result': '检查结果',
      'migration.can_move': '可以迁移', 'migration.checked': '{total} 个实例中 {movable} 个可以迁移。',
      'migration.progress': '迁移中：已完成 {migrated}/{total}…', 'migration.done': '迁移完成：{migrated}/{total} 个已迁移，{skipped} 个未迁移。',
      'event.instance_suspended': '挂起流程', 'event.instance_resumed': '恢复流程', 'event.incident_retried': '重试故障',
      'event.message_answered_by_hand': '手工答复消息', 'event.variables_changed': '修改流程数据', 'event.token_moved': '移动令牌',
      'console.title': '运维操作', 'console.reason': '原因', 'console.needs_reason': '请填写原因，它会记入审计日志。',
      'console.bad_json': '请填写 JSON 对象，例如 {"key": "value"}。', 'console.needs_variables': '请至少填写一个变量。',
      'console.needs_decision': '请选择审批结果。',
      'console.retry_title': '处理故障', 'console.retry_variables': '更正的数据（JSON，可选）', 'console.retry': '重试', 'console.retried': '已重试。',
      'console.suspend_title': '挂起 / 恢复', 'console.suspend': '挂起流程', 'console.resume': '恢复流程',
      'console.suspended': '流程已挂起：任务不能认领或完成，定时器暂停。', 'console.resumed': '流程已恢复。',
      'console.answer_title': '手工答复等待的消息', 'console.answer_message': '等待的消息', 'console.answer_decision': '审批结果',
      'console.approved': '批准', 'console.rejected': '不批准', 'console.answer_comment': '审批意见', 'console.answer_payload': '消息内容（JSON）',
      'console.answer_reason': '为何手工答复', 'console.answer': '记录答复', 'console.answered': '答复已记录，流程继续。',
      'console.variables_title': '修改流程数据', 'console.variables_json': '要修改的变量（JSON）', 'console.variables': '保存数据',
      'console.variables_saved': '数据已修改。',
      'console.move_title': '移动令牌', 'console.move_target': '目标', 'console.move': '移动', 'console.moved': '令牌已移动。',
      'console.move_skip': '跳过 {step}', 'console.move_back': '退回到 {step}',
      'instances.export': '导出 CSV', 'instances.version': '版本', 'instances.stage': '阶段', 'instances.holder': '处理人',
      'instances.started_after': '发起时间从', 'instances.started_before': '至',
      'document.kickoff-minutes': '优化启动会议纪要（表2-1）', 'document.diagnosis-report': '运营优化问题诊断报告（表2-2）',
      'document.review': '复盘报告',
      'designer.title': '流程设计', 'designer.toolbar': '流程', 'designer.process': '流程',
      'designer.version': '版本', 'designer.open': '打开', 'designer.new': '新建空白流程',
      'designer.validate': '校验', 'designer.deploy': '部署新版本', 'designer.download': '下载 XML',
      'designer.canvas': 'BPMN 画布', 'designer.properties': '属性',
      'designer.opened': '已打开 {key} 版本 {version}。', 'designer.blank': '已新建空白流程。',
      'designer.valid': '校验通过：没有问题。', 'designer.problems': '发现 {count} 个问题：',
      'designer.warnings': '已部署，但有 {count} 处值得注意：',
      'designer.deployed': '已部署：{list}。', 'designer.unchanged': '内容与最新版本相同，未产生新版本。',
      'designer.no_process': '图中没有流程。', 'designer.forbidden': '只有流程设计师和管理员可以部署。',
      'forms.title': '表单设计', 'forms.toolbar': '表单', 'forms.form': '表单', 'forms.new': '新建表单',
      'forms.download': '下载 JSON', 'forms.new_key': '新表单的标识（字母、数字、下划线）：',
      'forms.opened': '已打开表单 {key} 版本 {version}。', 'forms.created': '已新建表单 {key}。',
      'nav.decisions': '决策表设计', 'title.decisions': '决策表设计',
      'decisions.title': '决策表设计', 'decisions.toolbar': '决策表', 'decisions.decision': '决策',
      'decisions.new': '新建决策表', 'decisions.versions': '版本历史', 'decisions.canvas': '决策表编辑区',
      'decisions.opened': '已打开决策 {key} 版本 {version}。', 'decisions.blank': '新建的空白决策表，尚未部署。',
      'decisions.no_decision': '文件中没有决策。', 'decisions.hit_policy': '命中策略',
      'decisions.history': '决策', 'decisions.matched': '命中规则', 'decisions.inputs': '输入', 'decisions.result': '结果'
    },
    en: {
      'nav.skip': 'Skip to content', 'nav.label': 'Main navigation', 'nav.inbox': 'Inbox',
      'nav.instances': 'Instances', 'nav.designer': 'Process designer', 'nav.forms': 'Form designer',
      'nav.signout': 'Sign out', 'nav.admin': 'Administration',
      'nav.notifications': 'Notification channels', 'nav.preferences': 'My notifications', 'nav.analytics': 'Analytics',
      'title.notifications': 'Notification channels', 'title.preferences': 'My notifications',
      'vendor.missing': 'The browser libraries are not installed: run make setup (npm ci) first.',
      'title.signin': 'Sign in', 'title.inbox': 'Inbox', 'title.task': 'Task', 'title.start': 'Start a process',
      'title.instances': 'Process instances', 'title.instance': 'Process instance',
      'title.designer': 'Process designer', 'title.forms': 'Form designer',
      'common.all': 'All', 'common.loading': 'Loading…', 'common.none': '—', 'common.open': 'Open',
      'common.error': 'Something went wrong: {message}', 'common.updated': 'Updated',
      'common.version': 'version {version}',
      'signin.title': 'Sign in', 'signin.name': 'User name', 'signin.password': 'Password',
      'signin.submit': 'Sign in', 'signin.failed': 'Wrong user name or password.',
      'signin.signed_out': 'You are signed out.',
      'signin.or': 'or', 'signin.sso': 'Sign in with {provider}',
      'signin.sso_failed': 'Single sign-on failed ({reason}): try again or ask an admin.',
      'signin.sso_refused.unknown_user': 'You have no opsflow account yet; ask an admin.',
      'signin.sso_refused.disabled': 'Your account is disabled.',
      'inbox.title': 'My inbox', 'inbox.mine': 'My tasks', 'inbox.offered': 'Offered to me', 'inbox.filters': 'Filters',
      'inbox.process': 'Process', 'inbox.stage': 'Stage', 'inbox.business_key': 'Business key',
      'inbox.overdue': 'Overdue only', 'inbox.sort': 'Sort by', 'inbox.empty': 'No tasks.',
      'inbox.start': 'Start an optimization', 'inbox.claim': 'Claim',
      'inbox.updated': 'Inbox updated: {mine} my tasks, {offered} offered', 'inbox.overdue_badge': 'overdue',
      'sort.created': 'Created (oldest first)', 'sort.-created': 'Created (newest first)',
      'sort.due': 'Due (soonest first)', 'sort.-due': 'Due (latest first)',
      'col.task': 'Task', 'col.business_key': 'Business key', 'col.stage': 'Stage', 'col.process': 'Process',
      'col.created': 'Created', 'col.due': 'Due', 'col.assignee': 'Assignee', 'col.actions': 'Actions',
      'col.instance': 'Instance', 'col.version': 'Version', 'col.status': 'Status', 'col.started_by': 'Started by',
      'col.started_at': 'Started', 'col.when': 'When', 'col.who': 'Who', 'col.what': 'What',
      'col.element': 'Step', 'col.user': 'Member', 'col.role': 'Role', 'col.duty': 'Duty',
      'stage.kickoff': 'Kick-off', 'stage.diagnosis': 'Diagnosis', 'stage.design': 'Design',
      'stage.execution': 'Execution', 'stage.evaluation': 'Evaluation', 'stage.rollout': 'Roll-out',
      'role.leader': 'Leader', 'role.data': 'Data', 'role.execution': 'Execution', 'role.support': 'Support',
      'role.designer': 'Designer', 'role.admin': 'Admin',
      'status.running': 'Running', 'status.completed': 'Completed', 'status.cancelled': 'Cancelled',
      'outcome.keep_observing': 'Keep observing', 'outcome.stopped': 'Stopped', 'outcome.optimized': 'Optimized',
      'event.instance_started': 'Started the process', 'event.instance_completed': 'Process finished',
      'event.instance_cancelled': 'Process cancelled', 'event.task_created': 'Task arrived',
      'event.task_claimed': 'Claimed', 'event.task_unclaimed': 'Unclaimed', 'event.task_assigned': 'Assigned',
      'event.task_completed': 'Completed', 'event.task_cancelled': 'Task cancelled', 'event.incident': 'Incident',
      'task.form': 'Form', 'task.context': 'Context', 'task.claim': 'Claim', 'task.unclaim': 'Unclaim',
      'task.save_draft': 'Save draft', 'task.complete': 'Complete', 'task.assignee': 'Assignee',
      'task.assign': 'Assign', 'task.assign_to': 'Assign to', 'task.assigned': 'Assigned to {user}.',
      'task.candidates': 'Offered to', 'task.stage': 'Stage', 'task.due': 'Due', 'task.created': 'Created',
      'task.business_key': 'Business key', 'task.process': 'Process',
      'task.state_mine': 'Claimed by me', 'task.state_offered': 'Not claimed', 'task.state_other': 'Claimed by {user}', 'task.state_readonly': 'Read-only',
      'task.claimed': 'You claimed this task.', 'task.unclaimed': 'You released this task.',
      'task.draft_saved': 'Draft saved.', 'task.done': 'Task completed.', 'task.next': 'Next:',
      'task.next_waiting': 'No task is open now: the process waits for another system or a timer.',
      'task.instance_finished': 'The process has finished.',
      'task.back_inbox': 'Back to the inbox', 'task.see_instance': 'See the process instance',
      'task.problems': 'Please correct {count} problem(s):',
      'task.not_open': 'This task is not open any more (it was completed or cancelled).',
      'task.taken': '{user} has just claimed this task.', 'task.gone': 'Someone else completed or cancelled this task.',
      'task.readonly': '{user} works on this task; you can only look.', 'task.no_form': 'This task has no form.',
      'context.trigger': 'Trigger and problem', 'context.goal': 'Goal',
      'context.goal_text': '{metric}: {baseline} → {target} {unit}', 'context.earlier': 'Earlier steps',
      'context.none': 'No step finished yet.', 'context.by': '{actor} · {at}',
      'start.title': 'Start a process', 'start.business_key': 'Business key (optional)', 'start.submit': 'Start',
      'start.started': 'The process has started.', 'start.forbidden': 'Only leaders and admins start processes.',
      'instances.title': 'Process instances', 'instances.status': 'Status', 'instances.empty': 'No process instances.',
      'instances.start': 'Start {name}',
      'instances.has_incident': 'With an incident', 'instances.overdue': 'Overdue', 'instances.current': 'Current steps',
      'instances.prev': 'Previous', 'instances.next': 'Next', 'instances.pages': 'Pages', 'instances.page_info': '{from}–{to} of {total}',
      'instances.waiting_approval': 'waiting for the approval system', 'instances.waiting_message': 'waiting for message {message}', 'instances.waiting_timer': 'timer {due}',
      'instances.incident': 'Incident', 'instances.overdue_badge': 'Overdue', 'instances.due': 'due {due}',
      'instance.diagram': 'Diagram', 'instance.legend_done': 'Finished', 'instance.legend_open': 'Open task',
      'instance.cancel_title': 'Cancel the process', 'instance.cancel_reason': 'Reason', 'instance.cancel': 'Cancel the process',
      'instance.cancel_hint': 'A cancelled process cannot be resumed; the reason goes into the audit log.', 'instance.cancel_needs_reason': 'Give a reason for cancelling.', 'instance.cancelled': 'The process was cancelled.',
      'instance.legend_waiting': 'Waiting for a message or timer', 'instance.legend_incident': 'Incident', 'instance.legend_count': 'times taken',
      'instance.history': 'History', 'instance.open_tasks': 'Open tasks', 'instance.team': 'Team',
      'instance.no_team': 'No team formed yet.', 'instance.no_open': 'No open tasks.',
      'instance.started_by': 'Started by', 'instance.started_at': 'Started', 'instance.ended_at': 'Ended',
      'instance.outcome': 'Outcome', 'instance.business_key': 'Business key', 'instance.version': 'Version',
      'instance.incident': 'Incident: {message}', 'instance.unassigned': 'not claimed', 'instance.documents': 'Documents',
      'status.suspended': 'Suspended',
      'console.migrate_title': 'Migrate to another version', 'console.migrate_version': 'Target version', 'console.migrate_mapping': 'Renamed steps (JSON, old id → new id, optional)',
      'console.migrate': 'Migrate', 'console.migrated': 'Moved to the new version.', 'event.instance_migrated': 'Migrated',
      'migration.title': 'Version migration', 'migration.hint': 'Move the running or suspended instances the filters select to another version of the chosen process: check first, then migrate.',
      'migration.target': 'Target version', 'migration.check': 'Check', 'migration.start': 'Migrate', 'migration.result': 'Check',
      'migration.can_move': 'can move', 'migration.checked': '{movable} of {total} instances can move.',
      'migration.progress': 'Migrating: {migrated} of {total} done…', 'migration.done': 'Migration done: {migrated} of {total} moved, {skipped} not moved.',
      'event.instance_suspended': 'Suspended', 'event.instance_resumed': 'Resumed', 'event.incident_retried': 'Incident retried',
      'event.message_answered_by_hand': 'Message answered by hand', 'event.variables_changed': 'Data changed', 'event.token_moved': 'Token moved',
      'console.title': 'Operator actions', 'console.reason': 'Reason', 'console.needs_reason': 'Give a reason: it goes into the audit log.',
      'console.bad_json': 'Enter a JSON object, e.g. {"key": "value"}.', 'console.needs_variables': 'Give at least one variable.',
      'console.needs_decision': 'Choose the decision.',
      'console.retry_title': 'Resolve the incident', 'console.retry_variables': 'Corrected data (JSON, optional)', 'console.retry': 'Retry', 'console.retried': 'Retried.',
      'console.suspend_title': 'Suspend / resume', 'console.suspend': 'Suspend the process', 'console.resume': 'Resume the process',
      'console.suspended': 'The process is suspended: no task can be claimed or completed, timers wait.', 'console.resumed': 'The process was resumed.',
      'console.answer_title': 'Answer a waiting message by hand', 'console.answer_message': 'Waiting message', 'console.answer_decision': 'Decision',
      'console.approved': 'Approved', 'console.rejected': 'Rejected', 'console.answer_comment': 'Comment', 'console.answer_payload': 'Message content (JSON)',
      'console.answer_reason': 'Why it is answered by hand', 'console.answer': 'Record the answer', 'console.answered': 'The answer was recorded; the process goes on.',
      'console.variables_title': 'Change process data', 'console.variables_json': 'Variables to change (JSON)', 'console.variables': 'Save the data',
      'console.variables_saved': 'The data was changed.',
      'console.move_title': 'Move the token', 'console.move_target': 'Target', 'console.move': 'Move', 'console.moved': 'The token was moved.',
      'console.move_skip': 'skip {step}', 'console.move_back': 'go back to {step}',
      'instances.export': 'Export CSV', 'instances.version': 'Version', 'instances.stage': 'Stage', 'instances.holder': 'Holder',
      'instances.started_after': 'Started from', 'instances.started_before': 'to',
      'document.kickoff-minutes': 'Kick-off minutes (Table 2-1)', 'document.diagnosis-report': 'Diagnosis report (Table 2-2)',
      'document.review': 'Review',
      'designer.title': 'Process designer', 'designer.toolbar': 'Process', 'designer.process': 'Process',
      'designer.version': 'Version', 'designer.open': 'Open', 'designer.new': 'New blank diagram',
      'designer.validate': 'Validate', 'designer.deploy': 'Deploy new version', 'designer.download': 'Download XML',
      'designer.canvas': 'BPMN canvas', 'designer.properties': 'Properties',
      'designer.opened': 'Opened {key} version {version}.', 'designer.blank': 'Started a blank diagram.',
      'designer.valid': 'Valid: no problems.', 'designer.problems': '{count} problem(s):',
      'designer.warnings': 'Deployed, with {count} warning(s):',
      'designer.deployed': 'Deployed: {list}.', 'designer.unchanged': 'Same as the latest version: nothing new deployed.',
      'designer.no_process': 'The diagram holds no process.',
      'designer.forbidden': 'Only designers and admins deploy.',
      'forms.title': 'Form designer', 'forms.toolbar': 'Form', 'forms.form': 'Form', 'forms.new': 'New form',
      'forms.download': 'Download JSON', 'forms.new_key': 'Key of the new form (letters, digits, underscores):',
      'forms.opened': 'Opened form {key} version {version}.', 'forms.created': 'Created form {key}.',
      'nav.decisions': 'Decision designer', 'title.decisions': 'Decision designer',
      'decisions.title': 'Decision designer', 'decisions.toolbar': 'Decision table', 'decisions.decision': 'Decision',
      'decisions.new': 'New decision table', 'decisions.versions': 'Versions', 'decisions.canvas': 'Decision table editor',
      'decisions.opened': 'Opened decision {key} version {version}.', 'decisions.blank': 'A new blank decision table, not deployed yet.',
      'decisions.no_decision': 'The file holds no decision.', 'decisions.hit_policy': 'Hit policy',
      'decisions.history': 'Decisions', 'decisions.matched': 'Matched rules', 'decisions.inputs': 'Inputs', 'decisions.result': 'Result'
    }
  };

  const STORE = 'opsflow.lang';

  function lang() {
    const stored = localStorage.getItem(STORE);
    return stored === 'en' ? 'en' : 'zh';
  }

  function t(key, vars) {
    const table = DICT[lang()];
    let text = key in table ? table[key] : (key in DICT.zh ? DICT.zh[key] : key);
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars && vars[name] != null ? String(vars[name]) : m));
    }
    return text;
  }

  function has(key) {
    return key in DICT.zh;
  }

  function apply(root) {
    root = root || document;
    root.querySelectorAll('[data-i18n]').forEach((node) => { node.textContent = t(node.dataset.i18n); });
    root.querySelectorAll('[data-i18n-aria-label]').forEach((node) => {
      node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
    });
    if (root === document) {
      document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
      const page = document.body.dataset.page;
      document.title = (page ? t('title.' + page) + ' · ' : '') + 'opsflow';
      const button = document.getElementById('lang-switch');
      if (button) {
        button.textContent = lang() === 'en' ? '中文' : 'English';
        button.lang = lang() === 'en' ? 'zh-CN' : 'en';
        button.setAttribute('aria-label', lang() === 'en' ? '切换到中文' : 'Switch to English');
      }
      document.documentElement.classList.remove('i18n-pending');
    }
  }

  function setLang(value) {
    localStorage.setItem(STORE, value === 'en' ? 'en' : 'zh');
    apply(document);
    document.dispatchEvent(new CustomEvent('langchange', { detail: { lang: lang() } }));
  }

  /** A page's own words, added to the dictionary: extend({zh: {...}, en: {...}}). */
  function extend(more) {
    for (const l of ['zh', 'en']) Object.assign(DICT[l], (more && more[l]) || {});
  }

  window.OpsflowI18n = { t, has, lang, apply, setLang, extend };
})();
