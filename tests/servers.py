"""Real servers for tests: a private Dovecot, an aiosmtpd SMTP server and a PostgreSQL cluster.

Each server runs on a free loopback port in its own fresh temporary directory, and a server
that fails to start raises ServerStartError with the tail of its log. Hard-won facts behind
the details are in ../shared/design/TEST-SERVERS.md.
"""

from __future__ import annotations

import asyncio
import base64
import glob
import json
import mailbox
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

HOST = "127.0.0.1"
PASSWORD = "secret"  # Dovecot and SMTP accept this password for any user name.
START_TIMEOUT = 15.0


class ServerStartError(RuntimeError):
    """A test server is missing or did not start; the message says why and shows its log."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (bind to port 0 and ask)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def log_tail(*paths: Path, lines: int = 30) -> str:
    """The last lines of each log file that exists, for error messages."""
    parts = []
    for path in paths:
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} (last {len(text)} lines) ---\n" + "\n".join(text))
        else:
            parts.append(f"--- {path}: no log written ---")
    return "\n".join(parts)


def find_program(name: str, *extra_globs: str) -> str:
    """The path of a server program, from PATH or well-known Debian directories."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in (f"/usr/sbin/{name}", *extra_globs):
        matches = sorted(glob.glob(pattern), reverse=True)  # Newest version directory first.
        if matches:
            return matches[0]
    raise ServerStartError(
        f"{name} is not installed (not in PATH nor {', '.join(extra_globs) or '/usr/sbin'}); "
        "run scripts/test, which installs dovecot-imapd, postgresql and openssl"
    )


def wait_for_port(
    port: int, process: subprocess.Popen[bytes] | None, what: str, logs: Iterable[Path]
) -> None:
    """Wait until the port accepts a connection; fail early if the process died."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"{what} exited with code {process.returncode} before listening on "
                f"{HOST}:{port}\n{log_tail(*logs)}"
            )
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise ServerStartError(
        f"{what} did not listen on {HOST}:{port} within {START_TIMEOUT:.0f}s\n{log_tail(*logs)}"
    )


# --- TLS ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it."""

    cafile: Path
    certfile: Path
    keyfile: Path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting the test certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.certfile), str(self.keyfile))
        return context


def make_certificate(directory: Path) -> Certificate:
    """Make an EC CA and a server certificate signed by it (a few ms; RSA is slow)."""
    openssl = find_program("openssl", "/usr/bin/openssl")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    # A separate CA keeps verification honest under strict X.509 checks (Python 3.13 sets
    # VERIFY_X509_STRICT): a self-signed leaf that is also a CA is refused there.
    ext.write_text(
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        [
            openssl,
            "req",
            "-x509",
            *ec,
            "-keyout",
            ca_key,
            "-out",
            ca_cert,
            "-days",
            "2",
            "-subj",
            "/CN=steervote test CA",
        ],
        [openssl, "req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [
            openssl,
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca_cert,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
        ],
    ]
    for command in commands:
        result = subprocess.run(
            [str(part) for part in command], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ServerStartError(
                f"openssl failed: {' '.join(map(str, command))}\n{result.stderr}"
            )
    key.chmod(0o644)  # Dovecot reads the key as root, but keep it readable for any helper.
    return Certificate(cafile=ca_cert, certfile=cert, keyfile=key)


# --- Dovecot --------------------------------------------------------------------------

DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
auth_username_format = %Ln
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100
{oauth_passdb}passdb {{
  driver = static
  args = password={password}
  mechanisms = plain login
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class DovecotServer:
    """A private Dovecot: any user name logs in with PASSWORD; Maildir under root/mail."""

    root: Path
    port: int
    ssl_port: int
    certificate: Certificate
    process: subprocess.Popen[bytes]
    host: str = HOST
    user: str = "secretary"
    password: str = PASSWORD
    _users: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    @property
    def cafile(self) -> Path:
        """The CA that signed the server certificate, for verifying TLS clients."""
        return self.certificate.cafile

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def new_user(self, prefix: str = "user") -> str:
        """A user name never used before in this server: a fresh, empty mailbox."""
        return f"{prefix}{next(self._users)}-{os.getpid()}"

    def client(self, user: str | None = None, *, ssl_port: bool = False) -> IMAPClient:
        """A logged-in imapclient connection (plain port unless ssl_port)."""
        if ssl_port:
            client = IMAPClient(
                self.host, self.ssl_port, ssl=True, ssl_context=self.certificate.client_context()
            )
        else:
            client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(user or self.user, self.password)
        return client

    def append(
        self,
        raw: bytes,
        *,
        internaldate: datetime,
        user: str | None = None,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
    ) -> int:
        """APPEND one message with an explicit INTERNALDATE; returns its UID."""
        return self.append_many(
            [raw], internaldate=internaldate, user=user, folder=folder, flags=flags
        )[0]

    def append_many(
        self,
        raws: Iterable[bytes],
        *,
        internaldate: datetime,
        user: str | None = None,
        folder: str = "INBOX",
        flags: Iterable[str] = (),
    ) -> list[int]:
        """APPEND messages over one connection, all with the same INTERNALDATE; their UIDs."""
        uids = []
        client = self.client(user)
        try:
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in raws:
                response = client.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
                uids.append(_appenduid(response))
        finally:
            client.logout()
        return uids

    def flags(self, user: str | None = None, folder: str = "INBOX") -> dict[int, frozenset[bytes]]:
        """Flags of every message by UID, without the per-session \\Recent."""
        client = self.client(user)
        try:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
            return {
                uid: frozenset(f for f in data[b"FLAGS"] if f != b"\\Recent")
                for uid, data in fetched.items()
            }
        finally:
            client.logout()

    def count(self, user: str | None = None, folder: str = "INBOX") -> int:
        """Number of messages in the folder."""
        client = self.client(user)
        try:
            return int(client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"])
        finally:
            client.logout()

    def uidvalidity(self, user: str | None = None, folder: str = "INBOX") -> int:
        """The folder's current UIDVALIDITY."""
        client = self.client(user)
        try:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])
        finally:
            client.logout()

    def reset_uidvalidity(self, user: str | None = None, folder: str = "INBOX") -> None:
        """Make Dovecot forget the folder's UIDs: a new UIDVALIDITY, messages renumbered.

        This is what a server restore or migration does to a real mailbox. Dovecot
        keeps UIDs in dovecot-uidlist and its index files; removing them (no session
        may have the folder open) makes it renumber from 1 under a new UIDVALIDITY.
        """
        maildir = self.root / "mail" / (user or self.user).lower() / "Maildir"
        if folder != "INBOX":
            maildir = maildir / f".{folder}"
        for path in maildir.glob("dovecot*"):
            if path.is_file() and (
                path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index")
            ):
                path.unlink()

    def stop(self) -> None:
        """Stop Dovecot (SIGTERM; it exits in about a second)."""
        _terminate(self.process)
        shutil.rmtree(self.root, ignore_errors=True)


def _appenduid(response: bytes) -> int:
    # Dovecot answers APPEND with "[APPENDUID <uidvalidity> <uid>] Append completed."
    text = response.decode("ascii", "replace")
    if "APPENDUID" not in text:
        raise AssertionError(f"no APPENDUID in {text!r}")
    return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])


def _terminate(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Dovecot's oauth2 passdb (doc/wiki/PasswordDatabase.oauth2): a token is checked by POSTing
# it to the introspection endpoint (RFC 7662); "active": true and a "username" equal to the
# login name let it in. No cache (auth_cache_size is 0): a revoked token fails at once.
OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/dovecot-oauth2.conf.ext
}}
"""
OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
"""


def start_dovecot(
    password: str = PASSWORD, *, introspection_url: str | None = None
) -> DovecotServer:
    """Start a private Dovecot on two free loopback ports (IMAP with STARTTLS, and IMAPS).

    Any user name logs in with `password` (which may be non-ASCII: UTF-8 in SASL PLAIN).
    With `introspection_url`, XOAUTH2 and OAUTHBEARER are offered too, each token checked
    there (tests/oauth_server.py).
    """
    dovecot = find_program("dovecot")
    root = Path(tempfile.mkdtemp(prefix="steervote-dovecot-"))
    # Mail is accessed as nobody: the directory must be searchable and the mail root writable.
    root.chmod(0o755)
    (root / "mail").mkdir(mode=0o777)
    (root / "mail").chmod(0o777)
    certificate = make_certificate(root / "tls")
    port, ssl_port = free_port(), free_port()
    while ssl_port == port:
        ssl_port = free_port()
    config = root / "dovecot.conf"
    if introspection_url is not None:
        (root / "dovecot-oauth2.conf.ext").write_text(
            OAUTH2_CONF.format(url=introspection_url), encoding="utf-8"
        )
    config.write_text(
        DOVECOT_CONFIG.format(
            oauth_mechanisms=" xoauth2 oauthbearer" if introspection_url else "",
            oauth_passdb=OAUTH2_PASSDB.format(root=root) if introspection_url else "",
            root=root,
            cert=certificate.certfile,
            key=certificate.keyfile,
            password=password,
            port=port,
            ssl_port=ssl_port,
        ),
        encoding="utf-8",
    )
    stderr = root / "dovecot.stderr"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [dovecot, "-F", "-c", str(config)], stdout=err, stderr=subprocess.STDOUT
        )
    logs = [root / "dovecot.log", stderr]
    try:
        wait_for_port(port, process, "dovecot", logs)
        wait_for_port(ssl_port, process, "dovecot (imaps)", logs)
    except ServerStartError:
        _terminate(process)
        raise
    return DovecotServer(
        root=root,
        port=port,
        ssl_port=ssl_port,
        certificate=certificate,
        process=process,
        password=password,
    )


# --- SMTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server received it."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes
    peer: str  # The client's address and port: one value per SMTP connection.
    at: float = field(default_factory=time.monotonic)  # when it was taken


class _Handler:
    """Stores each message; refuses chosen recipients; can drop connections on purpose."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        quota = self.server.quota_after
        if quota is not None and len(self.server.messages) >= quota:
            return "451 4.7.1 Sending quota exceeded for this mailbox, try again later (test)"
        if self.server.drop_at_mail > 0:
            self.server.drop_at_mail -= 1
            assert smtp.transport is not None
            smtp.transport.abort()
            return "421 4.3.0 dropping the connection (test)"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.server.refuse.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        received = Received(
            sender=str(envelope.mail_from),
            recipients=tuple(envelope.rcpt_tos),
            content=content,
            peer=str(session.peer),
        )
        with self.server.lock:
            self.server.messages.append(received)
            if self.server.write_maildir:
                self.server.maildir.add(content)
        if any(r.lower() in self.server.drop_after_data for r in envelope.rcpt_tos):
            # The message is stored, but the client never hears "250": delivery unknown.
            assert smtp.transport is not None
            smtp.transport.abort()
        elif self.server.data_delay > 0:
            # Stored, and the "250" still to come: a client killed now cannot know.
            await asyncio.sleep(self.server.data_delay)
        return "250 OK"


class _OAuthHandler(_Handler):
    """_Handler with SASL XOAUTH2 and OAUTHBEARER (RFC 7628), each token checked at the
    OAuth2 server's introspection endpoint. aiosmtpd offers every `auth_*` method of a
    handler as a mechanism. A refusal is as Gmail's: a 334 with a JSON status, then 535."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(server, args, "OAUTHBEARER")

    async def _bearer(self, server: SMTP, args: list[str], mechanism: str) -> AuthResult:
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            answer = await server.challenge_auth("")
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=False)
            blob = answer
        fields = blob.decode("utf-8", "replace").split("\x01")
        if mechanism == "XOAUTH2":
            user = fields[0].removeprefix("user=")
        else:  # "n,a=USER," gs2 header, then key=value pairs
            gs2 = fields[0].split(",")
            user = next((f[2:] for f in gs2 if f.startswith("a=")), "")
            user = user.replace("=2C", ",").replace("=3D", "=")
        token = next((f[12:] for f in fields if f.startswith("auth=Bearer ")), "")
        owner = await asyncio.to_thread(self.server.introspect, token)
        if owner is not None and owner.lower() == user.lower():
            self.server.logins.append(f"{user} ({mechanism})")
            return AuthResult(success=True, auth_data=user)
        status = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
        await server.challenge_auth(status)  # the client's empty (or ^A) answer
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and token not accepted"
        )


class _Controller(Controller):  # type: ignore[misc]
    """A Controller that remembers its sessions, so stop() can cut them like a crash."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        smtp = super().factory()
        self.sessions.append(smtp)
        return smtp


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts.

    `refuse` maps an address to the refusal it gets at RCPT (e.g. "550 5.1.1 no such user");
    `drop_at_mail` aborts the connection at the next N MAIL commands;
    `drop_after_data` stores messages to these addresses, then aborts before answering;
    `data_delay` (seconds) is how long it waits, with each message stored, before its "250";
    without `write_maildir` messages are kept in `messages` only (1 ms a message faster).
    With `auth`, AUTH PLAIN/LOGIN accept `username`/PASSWORD (over plain text too, on
    loopback); with `certificate`, STARTTLS is offered, or with `implicit_tls` the
    whole connection is TLS (like port 465).
    """

    def __init__(
        self,
        root: Path,
        *,
        auth: bool = False,
        certificate: Certificate | None = None,
        implicit_tls: bool = False,
        username: str = "chair",
        password: str = PASSWORD,
        smtputf8: bool = False,
        introspection_url: str | None = None,
    ) -> None:
        self.root = root
        self.introspection_url = introspection_url
        self.host = HOST
        self.port = free_port()
        self.username = username
        self.password = password
        self.certificate = certificate
        self.messages: list[Received] = []
        self.maildir = mailbox.Maildir(root / "Maildir", create=True)
        self.refuse: dict[str, str] = {}
        self.drop_at_mail = 0
        self.drop_after_data: set[str] = set()
        self.data_delay = 0.0
        self.write_maildir = True
        self.quota_after: int | None = None  # "451 ... quota" at MAIL once this many taken
        self.lock = threading.Lock()
        self.logins: list[str] = []
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
        if auth:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        if certificate is not None and implicit_tls:
            kwargs.update(ssl_context=certificate.server_context())
        elif certificate is not None:
            kwargs.update(tls_context=certificate.server_context())
        self._kwargs = kwargs
        self._handler_class = _OAuthHandler if introspection_url else _Handler
        self._controller = _Controller(
            self._handler_class(self), hostname=HOST, port=self.port, **kwargs
        )
        self.running = False
        self._stopped_once = False

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            ok = data.login.decode() == self.username and data.password.decode() == self.password
            if ok:
                self.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    def introspect(self, token: str) -> str | None:
        """The user an active token belongs to, asked of the OAuth2 server (RFC 7662)."""
        assert self.introspection_url is not None
        body = urllib.parse.urlencode({"token": token}).encode()
        with urllib.request.urlopen(self.introspection_url, data=body, timeout=10) as reply:  # noqa: S310
            answer = json.loads(reply.read())
        return str(answer["username"]) if answer.get("active") else None

    def start(self) -> None:
        """Start listening (again) on the same port."""
        if self._stopped_once:
            # aiosmtpd closes its event loop on stop: a restart needs a new controller.
            self._controller = _Controller(
                self._handler_class(self), hostname=HOST, port=self.port, **self._kwargs
            )
        try:
            self._controller.start()
        except Exception as error:  # aiosmtpd raises several kinds; report them all alike.
            raise ServerStartError(
                f"aiosmtpd did not start on {HOST}:{self.port}: {error!r}"
            ) from error
        self.running = True

    def stop(self) -> None:
        """Stop like a crash: cut every open connection, then stop listening."""
        if not self.running:
            return
        loop = self._controller.loop
        for smtp in list(self._controller.sessions):
            if smtp.transport is not None:
                loop.call_soon_threadsafe(smtp.transport.abort)
        self._controller.sessions.clear()
        self._controller.stop()
        self.running = False
        self._stopped_once = True

    def reset(self) -> None:
        """Forget stored messages and test settings (between tests)."""
        with self.lock:
            self.messages.clear()
            self.maildir.clear()
            self.refuse.clear()
            self.drop_after_data.clear()
            self.drop_at_mail = 0
            self.data_delay = 0.0
            self.write_maildir = True
            self.quota_after = None
            self.logins.clear()

    def close(self) -> None:
        """Stop and remove the temporary directory."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_smtp(
    *,
    auth: bool = False,
    certificate: Certificate | None = None,
    implicit_tls: bool = False,
    password: str = PASSWORD,
    smtputf8: bool = False,
    introspection_url: str | None = None,
) -> SmtpServer:
    """Start an aiosmtpd server on a free loopback port in a fresh temporary directory.

    With `smtputf8` it offers SMTPUTF8 (RFC 6531); aiosmtpd's default is not to.
    """
    root = Path(tempfile.mkdtemp(prefix="steervote-smtp-"))
    server = SmtpServer(
        root,
        auth=auth,
        certificate=certificate,
        implicit_tls=implicit_tls,
        password=password,
        smtputf8=smtputf8,
        introspection_url=introspection_url,
    )
    server.start()
    return server


# --- PostgreSQL -----------------------------------------------------------------------


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster; `new_database()` gives a fresh empty database URL."""

    root: Path
    port: int
    pg_ctl: str
    run_as: list[str]
    host: str = HOST
    user: str = "postgres"
    _databases: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL for a database in this cluster (trust authentication on loopback)."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """CREATE DATABASE with a new name; returns its SQLAlchemy URL."""
        import psycopg

        name = f"steervote_{next(self._databases)}"
        conninfo = f"host={self.host} port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            # FILE_COPY is the fast strategy for a tiny template when fsync is off.
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY')
        return self.url(name)

    def stop(self) -> None:
        """Stop the cluster immediately and remove its directory."""
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start a private cluster (as the postgres user when we are root)."""
    pattern = "/usr/lib/postgresql/*/bin/"
    initdb = find_program("initdb", pattern + "initdb")
    pg_ctl = find_program("pg_ctl", pattern + "pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="steervote-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: hand the directory to the postgres user.
        try:
            account = pwd.getpwnam("postgres")
        except KeyError as error:
            raise ServerStartError(
                "running as root but there is no 'postgres' user to run PostgreSQL as; "
                "install the postgresql package (scripts/test does)"
            ) from error
        os.chown(root, account.pw_uid, account.pw_gid)
        runuser = find_program("runuser", "/usr/sbin/runuser", "/sbin/runuser")
        run_as = [runuser, "-u", "postgres", "--"]
    data, log = root / "data", root / "postgres.log"
    result = subprocess.run(
        [
            *run_as,
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise ServerStartError(
            f"initdb failed (exit {result.returncode}):\n{result.stderr[-3000:]}"
        )
    port = free_port()
    options = (
        f"-p {port} -k {root} -c listen_addresses={HOST} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    start = [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o", options, "start"]
    result = subprocess.run(
        [*run_as, *start],
        capture_output=True,
        text=True,
        check=False,
    )
    server = PostgresServer(root=root, port=port, pg_ctl=pg_ctl, run_as=run_as)
    if result.returncode != 0:
        message = f"pg_ctl start failed (exit {result.returncode}): {result.stderr.strip()}\n"
        message += log_tail(log)
        server.stop()
        raise ServerStartError(message)
    wait_for_port(port, None, "postgres", [log])
    return server
