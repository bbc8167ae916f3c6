"""Stand-ins for the chat platforms' robot endpoints and for a mail server, on loopback ports. Each
robot checks a request the way its platform documents it (URL, signature, body shape and size) and
answers the way the platform does: HTTP 200 with an error code in the body when something is wrong.
Written from the platforms' documentation, not from opsflow's sender:

- WeCom: https://developer.work.weixin.qq.com/document/path/91770 (key in the URL; text <= 2048 bytes,
  markdown <= 4096 bytes)
- DingTalk: https://open.dingtalk.com/document/robots/customize-robot-security-settings (timestamp in
  ms within an hour; sign = urlencode(base64(HmacSHA256(secret, "timestamp\\nsecret"))))
- Feishu: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (timestamp in seconds
  within an hour; sign = base64(HmacSHA256 keyed "timestamp\\nsecret" over nothing); body <= 20 KB)
"""

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.integration.receiver import free_port


@dataclass
class Robot:
    """One group robot of `kind` ("wecom", "dingtalk", "feishu"), listening on a loopback port."""

    kind: str
    secret: str | None = None
    token: str = "robot-key-0123456789abcdef"
    answers: list[int] = field(default_factory=list)  # HTTP statuses to answer first (then 200)
    messages: list[dict] = field(default_factory=list)  # bodies it accepted
    refused: list[str] = field(default_factory=list)  # why it refused the others
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of accepted messages

    def __post_init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        if self.kind == "wecom":
            return f"{base}/cgi-bin/webhook/send?key={self.token}"
        if self.kind == "dingtalk":
            return f"{base}/robot/send?access_token={self.token}"
        return f"{base}/open-apis/bot/v2/hook/{self.token}"

    def start(self) -> "Robot":
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with robot._lock:
                    forced = robot.answers.pop(0) if robot.answers else None
                if forced is not None:
                    self._answer(forced, {"error": "platform trouble"})
                    return
                problem = robot.check(self.path, self.headers.get("Content-Type", ""), raw)
                with robot._lock:
                    if problem is None:
                        robot.messages.append(json.loads(raw))
                        robot.arrivals.append(time.monotonic())
                    else:
                        robot.refused.append(problem[1])
                self._answer(200, robot.ok() if problem is None else robot.error(*problem))

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, (
                f"{self.kind}: {len(self.messages)} of {count} messages arrived"
            )
            time.sleep(0.02)
        return list(self.messages)

    # --- what the platform answers ----------------------------------------------------------------

    def ok(self) -> dict:
        if self.kind == "feishu":
            return {"code": 0, "msg": "success", "data": {}}
        return {"errcode": 0, "errmsg": "ok"}

    def error(self, code: int, message: str) -> dict:
        if self.kind == "feishu":
            return {"code": code, "msg": message, "data": {}}
        return {"errcode": code, "errmsg": message}

    def check(self, path: str, content_type: str, raw: bytes) -> tuple[int, str] | None:
        """(error code, message) as the platform would answer, or None when it takes the message."""
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if "application/json" not in content_type:
            return 40008, "content type is not JSON"
        try:
            body = json.loads(raw)
        except ValueError:
            return 40008, "invalid JSON"
        if self.kind == "wecom":
            return self._check_wecom(parts.path, query, body)
        if self.kind == "dingtalk":
            return self._check_dingtalk(parts.path, query, body)
        return self._check_feishu(parts.path, body, raw)

    def _check_wecom(self, path: str, query: dict, body: dict) -> tuple[int, str] | None:
        if path != "/cgi-bin/webhook/send" or query.get("key") != [self.token]:
            return 93000, "invalid webhook url"
        kind = body.get("msgtype")
        if kind == "text":
            content = body.get("text", {}).get("content")
            limit = 2048
        elif kind == "markdown":
            content = body.get("markdown", {}).get("content")
            limit = 4096
        else:
            return 40008, "invalid message type"
        if not isinstance(content, str) or not content or len(content.encode()) > limit:
            return 44004, "empty or too long content"
        return None

    def _check_dingtalk(self, path: str, query: dict, body: dict) -> tuple[int, str] | None:
        if path != "/robot/send" or query.get("access_token") != [self.token]:
            return 300001, "token is not exist"
        if self.secret is not None:
            [timestamp] = query.get("timestamp", ["0"])
            [sign] = query.get("sign", [""])  # parse_qs has URL-decoded it
            if abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
                return 310000, "timestamp is not within one hour"
            string_to_sign = f"{timestamp}\n{self.secret}".encode()
            expected = base64.b64encode(
                hmac.new(self.secret.encode(), string_to_sign, hashlib.sha256).digest()
            )
            if not hmac.compare_digest(expected.decode(), sign):
                return 310000, "sign not match"
        kind = body.get("msgtype")
        if kind == "text":
            ok = isinstance(body.get("text", {}).get("content"), str) and body["text"]["content"]
        elif kind == "markdown":
            markdown = body.get("markdown", {})
            ok = all(isinstance(markdown.get(k), str) and markdown[k] for k in ("title", "text"))
        else:
            return 40035, "msgtype is not supported"
        return None if ok else (40035, "missing content")

    def _check_feishu(self, path: str, body: dict, raw: bytes) -> tuple[int, str] | None:
        if path != f"/open-apis/bot/v2/hook/{self.token}":
            return 19001, "param invalid: incoming webhook access token invalid"
        if len(raw) > 20 * 1024:
            return 9499, "Bad Request"
        if self.secret is not None:
            timestamp, sign = body.get("timestamp"), body.get("sign")
            if not isinstance(timestamp, str) or abs(time.time() - int(timestamp)) > 3600:
                return 19021, "sign match fail or timestamp is not within one hour from current time"
            key = f"{timestamp}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if not isinstance(sign, str) or not hmac.compare_digest(expected, sign):
                return 19021, "sign match fail or timestamp is not within one hour from current time"
        kind = body.get("msg_type")
        if kind == "text":
            ok = isinstance(body.get("content", {}).get("text"), str)
        elif kind == "interactive":
            card = body.get("card", {})
            title = card.get("header", {}).get("title", {})
            elements = card.get("elements")
            ok = (
                title.get("tag") == "plain_text"
                and isinstance(title.get("content"), str)
                and isinstance(elements, list)
                and all(isinstance(e, dict) and "tag" in e for e in elements)
            )
        else:
            return 9499, "Bad Request"
        return None if ok else (9499, "Bad Request")


# --- e-mail ---------------------------------------------------------------------------------------


class Mailbox:
    """A real SMTP server (aiosmtpd) on a loopback port that keeps every message it accepts. With a
    user name and password it requires AUTH LOGIN/PLAIN (over the plain connection, as a test may)."""

    def __init__(self, user: str | None = None, password: str | None = None, *, hold_at: int = 0) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._credentials = (user, password)
        # hold_at = n: the n-th RCPT TO waits until `released` is set (and `holding` says it waits)
        self.hold_at = hold_at
        self.recipients_seen = 0
        self.holding = threading.Event()
        self.released = threading.Event()
        mailbox = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
                mailbox.recipients_seen += 1
                if mailbox.hold_at == mailbox.recipients_seen:
                    mailbox.holding.set()  # the sender is in the middle of this message
                    while not mailbox.released.is_set():
                        await asyncio.sleep(0.01)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope) -> str:
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with mailbox._lock:
                    mailbox.messages.append(message)
                    mailbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 Message accepted for delivery"

        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and (
                    auth_data.login.decode(),
                    auth_data.password.decode(),
                )
                == self._credentials
            )
            return AuthResult(success=ok, handled=ok)  # a failure unhandled: aiosmtpd answers 535

        kwargs: dict = {}
        if user is not None:
            kwargs = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> "Mailbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} e-mails arrived"
            time.sleep(0.02)
        return list(self.messages)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
