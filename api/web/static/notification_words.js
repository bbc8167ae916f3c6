/* The words of the notification pages (channels and preferences), added to the shared dictionary. */
(function () {
  'use strict';
  window.OpsflowI18n.extend({
    zh: {
      'prefs.email': '电子邮箱', 'prefs.language': '通知语言', 'prefs.events': '通知我以下事件', 'prefs.timezone': '时区',
      'prefs.quiet_start': '免打扰开始', 'prefs.quiet_end': '免打扰结束', 'prefs.digest': '每天汇总成一封邮件',
      'prefs.digest_at': '汇总发送时间', 'prefs.save': '保存', 'prefs.saved': '已保存。',
      'notify.task_offered': '有新任务待我处理', 'notify.task_assigned': '任务指派给我', 'notify.task_overdue': '任务逾期',
      'notify.task_escalated': '逾期任务升级至组长', 'notify.instance_completed': '流程完成', 'notify.incident': '流程异常（管理员）',
      'channels.list': '已配置的渠道', 'channels.new': '新建渠道', 'channels.name': '名称', 'channels.kind': '类型',
      'channels.target': '地址', 'channels.events': '事件', 'channels.active': '启用', 'channels.secrets': '已设置的密钥',
      'channels.log': '发送记录', 'channels.delete': '删除', 'channels.create': '创建', 'channels.created': '渠道已创建。',
      'channels.empty': '还没有通知渠道。', 'channels.host': 'SMTP 服务器', 'channels.port': '端口',
      'channels.security': '加密', 'channels.sender': '发件人', 'channels.username': '用户名', 'channels.password': '密码',
      'channels.url': 'Webhook 地址', 'channels.secret': '加签密钥', 'channels.style': '消息格式',
      'channels.language': '消息语言', 'channels.rate': '每分钟最多消息数',
      'channels.log_title': '“{name}”的发送记录', 'channels.log_empty': '还没有发送记录。',
      'channels.at': '时间', 'channels.count': '通知数', 'channels.recipients': '接收人', 'channels.result': '结果',
      'channels.delivered': '已送达', 'channels.failed': '失败：{error}',
      'kind.smtp': '电子邮件（SMTP）', 'kind.wecom': '企业微信群机器人', 'kind.dingtalk': '钉钉群机器人', 'kind.feishu': '飞书群机器人',
      'common.yes': '是', 'common.no': '否'
    },
    en: {
      'prefs.email': 'E-mail address', 'prefs.language': 'Language of my notifications', 'prefs.events': 'Tell me about',
      'prefs.timezone': 'Time zone', 'prefs.quiet_start': 'Quiet hours from', 'prefs.quiet_end': 'Quiet hours until',
      'prefs.digest': 'One e-mail a day instead', 'prefs.digest_at': 'Send the daily e-mail at',
      'prefs.save': 'Save', 'prefs.saved': 'Saved.',
      'notify.task_offered': 'A new task for me', 'notify.task_assigned': 'A task assigned to me',
      'notify.task_overdue': 'A task overdue', 'notify.task_escalated': 'An overdue task escalated to the leader',
      'notify.instance_completed': 'A process finished', 'notify.incident': 'An incident (admins)',
      'channels.list': 'Channels', 'channels.new': 'New channel', 'channels.name': 'Name', 'channels.kind': 'Kind',
      'channels.target': 'Where', 'channels.events': 'Events', 'channels.active': 'Active', 'channels.secrets': 'Secrets set',
      'channels.log': 'Delivery log', 'channels.delete': 'Delete', 'channels.create': 'Create',
      'channels.created': 'Channel created.', 'channels.empty': 'No notification channels yet.',
      'channels.host': 'SMTP server', 'channels.port': 'Port', 'channels.security': 'Security', 'channels.sender': 'From',
      'channels.username': 'User name', 'channels.password': 'Password', 'channels.url': 'Webhook URL',
      'channels.secret': 'Signing secret', 'channels.style': 'Message format', 'channels.language': 'Message language',
      'channels.rate': 'Messages a minute at most', 'channels.log_title': 'Delivery log of “{name}”',
      'channels.log_empty': 'Nothing sent yet.', 'channels.at': 'At', 'channels.count': 'Notifications',
      'channels.recipients': 'To', 'channels.result': 'Result', 'channels.delivered': 'delivered',
      'channels.failed': 'failed: {error}',
      'kind.smtp': 'E-mail (SMTP)', 'kind.wecom': 'WeCom group robot', 'kind.dingtalk': 'DingTalk group robot',
      'kind.feishu': 'Feishu group robot', 'common.yes': 'yes', 'common.no': 'no'
    }
  });
  window.OpsflowI18n.apply(document);
})();
