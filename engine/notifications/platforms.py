"""Each platform's message format and signature, as its documentation describes. Pure functions:
a list of notices in, the request (URL and JSON body) or the e-mail out.

Sources (checked against the platforms' published guides):
- WeCom group robot, "群机器人配置说明" https://developer.work.weixin.qq.com/document/path/91770:
  POST the webhook URL (the robot's `key` is in its query string) with {"msgtype": "text",
  "text": {"content"}} (at most 2048 bytes) or {"msgtype": "markdown", "markdown": {"content"}}
  (at most 4096 bytes); answers {"errcode": 0, "errmsg": "ok"}; 20 messages a minute per robot.
- DingTalk custom robot, "自定义机器人安全设置" / "自定义机器人发送群消息"
  https://open.dingtalk.com/document/robots/customize-robot-security-settings : with 加签 the URL
  gets `timestamp` (milliseconds) and `sign` = urlEncode(base64(HmacSHA256(key=secret,
  message=timestamp + "\n" + secret))); bodies {"msgtype": "text", "text": {"content"}} or
  {"msgtype": "markdown", "markdown": {"title", "text"}}; answers {"errcode": 0, "errmsg": "ok"}.
- Feishu/Lark custom bot, "自定义机器人使用指南"
  https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot :
  with 签名校验 the JSON body carries "timestamp" (seconds, as a string) and "sign" =
  base64(HmacSHA256(key=timestamp + "\n" + secret, message=empty)); bodies {"msg_type": "text",
  "content": {"text"}} or {"msg_type": "interactive", "card": {"header": {"title": {"tag":
  "plain_text", "content"}, "template"}, "elements": [{"tag": "div", "text": {"tag": "lark_md",
  "content"}}, {"tag": "action", "actions": [{"tag": "button", "text", "type", "url"}]}]}};
  answers {"code": 0, "msg": "success"}; a body is at most 20 KB.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from urllib.parse import quote_plus

from engine.notifications.messages import Notice, plain
from engine.notifications.model import DINGTALK, FEISHU, WECOM
from engine.types import JsonObject

_TEXT_LIMITS = {WECOM: 2048, DINGTALK: 18000, FEISHU: 18000}  # bytes of the text the platform shows
_MARKDOWN_LIMITS = {WECOM: 4096, DINGTALK: 18000, FEISHU: 18000}


@dataclass(frozen=True)
class Request:
    url: str
    body: JsonObject

    def content(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


def robot_request(
    kind: str, url: str, secret: str | None, style: str, notices: list[Notice], *, now_ms: int
) -> Request:
    """The one request that posts `notices` (a batch) to a robot, signed when it has a secret."""
    if kind == WECOM:
        return Request(url, wecom_body(notices, style))
    if kind == DINGTALK:
        return Request(dingtalk_url(url, secret, now_ms) if secret else url, dingtalk_body(notices, style))
    if kind == FEISHU:
        body = feishu_body(notices, style)
        if secret:
            timestamp = str(now_ms // 1000)
            body = {"timestamp": timestamp, "sign": feishu_sign(secret, timestamp), **body}
        return Request(url, body)
    raise ValueError(f"not a robot: {kind}")


def accepted(kind: str, answer: object) -> str | None:
    """None when the platform's answer says the message was taken, else its error. The platforms
    answer HTTP 200 with an error code in the body (a bad signature, a rate limit)."""
    if not isinstance(answer, dict):
        return "the answer is not a JSON object"
    code = answer.get("code", answer.get("StatusCode")) if kind == FEISHU else answer.get("errcode")
    if code == 0:
        return None
    message = answer.get("msg") if kind == FEISHU else answer.get("errmsg")
    return f"{kind} error {code}: {message}"


# --- WeCom ----------------------------------------------------------------------------------------


def wecom_body(notices: list[Notice], style: str) -> JsonObject:
    if style == "markdown":
        return {
            "msgtype": "markdown",
            "markdown": {"content": _fit(_markdown(notices), _MARKDOWN_LIMITS[WECOM])},
        }
    return {"msgtype": "text", "text": {"content": _fit(_plain(notices), _TEXT_LIMITS[WECOM])}}


# --- DingTalk -------------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    """base64(HmacSHA256(secret, "timestamp\\nsecret")), before URL-encoding."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_url(url: str, secret: str, now_ms: int) -> str:
    timestamp = str(now_ms)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={quote_plus(dingtalk_sign(secret, timestamp))}"


def dingtalk_body(notices: list[Notice], style: str) -> JsonObject:
    if style == "markdown":
        title = notices[0].title if len(notices) == 1 else _batch_title(notices)
        text = _fit(_markdown(notices), _MARKDOWN_LIMITS[DINGTALK])
        return {"msgtype": "markdown", "markdown": {"title": title[:100], "text": text}}
    return {"msgtype": "text", "text": {"content": _fit(_plain(notices), _TEXT_LIMITS[DINGTALK])}}


# --- Feishu / Lark --------------------------------------------------------------------------------


def feishu_sign(secret: str, timestamp_s: str) -> str:
    """base64(HmacSHA256 keyed with "timestamp\\nsecret" over an empty message)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_body(notices: list[Notice], style: str) -> JsonObject:
    if style != "card":
        return {"msg_type": "text", "content": {"text": _fit(_plain(notices), _TEXT_LIMITS[FEISHU])}}
    elements: list[JsonObject] = []
    for i, notice in enumerate(notices):
        if i:
            elements.append({"tag": "hr"})
        text = "\n".join(f"**{name}**: {value}" for name, value in notice.lines)
        if len(notices) > 1:
            text = f"**{notice.title}**\n{text}"
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": text}})
        if notice.link:
            button = {
                "tag": "button",
                "text": {"tag": "plain_text", "content": notice.link_text},
                "type": "primary",
                "url": notice.link,
            }
            elements.append({"tag": "action", "actions": [button]})
    title = notices[0].title if len(notices) == 1 else _batch_title(notices)
    header = {"title": {"tag": "plain_text", "content": title}, "template": "blue"}
    return {"msg_type": "interactive", "card": {"header": header, "elements": elements}}


# --- e-mail ---------------------------------------------------------------------------------------


def email(notice: Notice, *, sender: str, to: str, message_id: str) -> EmailMessage:
    """A multipart/alternative e-mail (text and HTML). The Message-ID is the notification's own, the
    same on every attempt, so a mail system can drop a second copy."""
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    message.set_content(plain(notice))
    rows = "".join(f"<tr><th align='left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in notice.lines)
    link = f"<p><a href='{escape(notice.link)}'>{escape(notice.link_text)}</a></p>" if notice.link else ""
    message.add_alternative(
        f"<html><body><h2>{escape(notice.title)}</h2><table>{rows}</table>{link}</body></html>",
        subtype="html",
    )
    return message


# --- shared ---------------------------------------------------------------------------------------


def _batch_title(notices: list[Notice]) -> str:
    return f"opsflow ({len(notices)})"


def _plain(notices: list[Notice]) -> str:
    return "\n\n".join(plain(n) for n in notices)


def _markdown(notices: list[Notice]) -> str:
    parts = []
    for notice in notices:
        lines = [f"### {notice.title}"] + [f"> **{name}**: {value}" for name, value in notice.lines]
        if notice.link:
            lines.append(f"[{notice.link_text}]({notice.link})")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _fit(text: str, limit: int) -> str:
    """Cut to the platform's limit in UTF-8 bytes, on a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "..."
