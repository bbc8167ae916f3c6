"""The words shared by the notification modules: channel kinds, what people can be told about, and
the settings each kind of channel takes."""

#: What people may choose to be told about. "task_offered" and "task_assigned" both come from a task
#: that opens; which one depends on whether the model names its assignee.
EVENT_TYPES = (
    "task_offered",
    "task_assigned",
    "task_overdue",
    "task_escalated",
    "instance_completed",
    "incident",
)
DIGEST = "digest"

SMTP = "smtp"
WECOM = "wecom"
DINGTALK = "dingtalk"
FEISHU = "feishu"
ROBOTS = (WECOM, DINGTALK, FEISHU)
KINDS = (SMTP, *ROBOTS)

LANGUAGES = ("zh", "en")
SMTP_SECURITY = ("none", "starttls", "tls")
#: The message styles of each robot: plain text, or the platform's rich format.
STYLES = {WECOM: ("text", "markdown"), DINGTALK: ("text", "markdown"), FEISHU: ("text", "card")}
#: WeCom and DingTalk allow 20 messages a minute per robot (Feishu allows more; 20 is safe for all).
DEFAULT_RATE_PER_MINUTE = 20
#: A chat message carries at most this many notifications (the platforms cap message sizes).
MAX_BATCH = 10

#: The recipient of a chat robot's notifications: the whole group.
GROUP = "#group"

JOB_SEND = "notify_send"
JOB_DIGEST = "notify_digest"
MAX_ATTEMPTS = 12  # with the executor's backoff (capped at 10 minutes), about an hour of trying
