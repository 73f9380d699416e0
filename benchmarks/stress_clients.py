"""The phones and the saboteur of the stress run (see stress_submissions.py).

A *phone* is one thread: for each of its evaluations it fetches the citizen form (the
server-issued form instance and the form version; no cookie is needed), then posts it once
plus 0–3 re-sends of the same form instance, either one after the other or all at once on
parallel connections (a double tap that races itself across workers). A reply that never
comes (its worker was killed) is retried, bounded, until the server acknowledges with a 303
to the thank-you page.

The *saboteur* kills a random gunicorn worker with SIGKILL every few seconds; the master
starts a new one. Everything is raw HTTP/1.1 over 127.0.0.1 with ``Connection: close``.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

TIMEOUT_S = 30.0
MAX_RETRIES = 12  # after the first burst, while no acknowledgement came back
CANARY_COMMENT = "CANARYC"  # + hex: free-text comments that must never reach a log
CANARY_DOSSIER = "CANARYD"  # + hex (upper case): dossier codes, only ever hashed


@dataclass
class Evaluation:
    """What one citizen sent and what the server answered to each copy."""

    client_uuid: str
    fields: dict[str, str]
    statuses: list[int] = field(default_factory=list)
    acknowledged: bool = False


@dataclass(frozen=True)
class Phone:
    """A form as a browser holds it: where to post and the hidden fields."""

    path: str
    token: str
    iv: str

    @property
    def client_uuid(self) -> str:
        """The UUID the server put in the form instance (signed, not secret)."""
        import base64
        import json

        payload = self.token.split(".")[0]
        desk_and_uuid = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(uuid.UUID(hex=desk_and_uuid[1]))


def exchange(port: int, raw: bytes) -> tuple[int, str]:
    """Send one request; (status, Location) or (0, "") when the connection died."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as conn:
            conn.sendall(raw)
            return _read(conn)
    except OSError:
        return 0, ""


def _read(conn: socket.socket) -> tuple[int, str]:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except OSError:
        return 0, ""
    reply = b"".join(chunks)
    if not reply.startswith(b"HTTP/1.") or len(reply) < 12:
        return 0, ""
    location = re.search(rb"\r\nLocation: ([^\r]*)", reply, re.I)
    return int(reply[9:12]), location.group(1).decode() if location else ""


def open_phone(port: int, path: str, deadline: float, forwarded: str = "") -> Phone:
    """GET the form (retrying while workers die) and keep what a browser would post back."""
    via = f"X-Forwarded-For: {forwarded}\r\n" if forwarded else ""
    raw = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{via}Connection: close\r\n\r\n"
           .encode())
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as conn:
                conn.sendall(raw)
                reply = b""
                while chunk := conn.recv(65536):
                    reply += chunk
        except OSError:
            reply = b""
        text = reply.decode("utf-8", "replace")
        token = re.search(r'name="form_token" value="([^"]+)"', text)
        iv = re.search(r'name="iv" value="([^"]+)"', text)
        if token and iv:
            return Phone(path, token.group(1), iv.group(1))
        time.sleep(0.1)
    raise TimeoutError(f"no form served at {path} before the deadline")


def random_fields(rng: random.Random) -> dict[str, str]:
    """A valid evaluation; some carry a dossier code, a consented phone, a comment (canaries)."""
    fields = {
        "service_field": str(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 98])),
        "overall": str(rng.randint(1, 5)), "on_time": str(rng.randint(1, 3)),
        "staff_attitude": str(rng.randint(1, 5)), "visits": str(rng.randint(1, 20)),
        "posted_procedures": str(rng.choice([1, 2, 3, 4, 5, 9])),
        "feedback_handling": str(rng.choice([1, 2, 3, 4, 5, 9])),
    }  # fmt: skip
    if rng.random() < 0.3:
        fields["comment"] = f"Cán bộ tận tình {CANARY_COMMENT}{rng.getrandbits(48):012x}"
    if rng.random() < 0.2:
        fields["dossier_code"] = f"{CANARY_DOSSIER}{rng.getrandbits(48):012X}"
    if rng.random() < 0.2:
        fields["contact_phone"] = f"09{rng.randrange(10**8):08d}"
        fields["contact_consent"] = "yes"
    return fields


def post_bytes(phone: Phone, evaluation: Evaluation) -> bytes:
    body = urlencode({"form_token": phone.token, "iv": phone.iv, **evaluation.fields}).encode()
    head = (f"POST {phone.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


def _burst(port: int, raw: bytes, copies: int) -> list[tuple[int, str]]:
    """``copies`` identical requests in flight at once: all sent before any reply is read."""
    conns: list[socket.socket | None] = []
    for _ in range(copies):
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
            conn.sendall(raw)
            conns.append(conn)
        except OSError:
            conns.append(None)
    replies = []
    for conn in conns:
        if conn is None:
            replies.append((0, ""))
            continue
        with conn:
            replies.append(_read(conn))
    return replies


def send(port: int, phone: Phone, evaluation: Evaluation, rng: random.Random,
         deadline: float) -> None:
    """Post with 0–3 re-sends (in a row or at once), then retry until acknowledged."""
    raw = post_bytes(phone, evaluation)
    copies = 1 + rng.randint(0, 3)
    if rng.random() < 0.5:
        replies = _burst(port, raw, copies)
    else:
        replies = [exchange(port, raw) for _ in range(copies)]
    for attempt in range(MAX_RETRIES + 1):
        for status, location in replies:
            evaluation.statuses.append(status)
            if status == 303 and "/d/thanks/" in location:
                evaluation.acknowledged = True
        if evaluation.acknowledged or time.monotonic() > deadline or attempt == MAX_RETRIES:
            return
        if any(status not in (0, 303) for status, _ in replies):
            return  # a definite refusal: retrying the same body will not change it
        time.sleep(min(2.0, 0.05 * 2**attempt) * rng.uniform(0.5, 1.0))
        replies = [exchange(port, raw)]


def phone_thread(port: int, path: str, count: int, seed: int, deadline: float,
                 out: list[Evaluation], lock: threading.Lock) -> None:
    rng = random.Random(seed)
    mine = []
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        try:
            phone = open_phone(port, path, deadline)
        except TimeoutError:
            break
        evaluation = Evaluation(phone.client_uuid, random_fields(rng))
        send(port, phone, evaluation, rng, deadline)
        mine.append(evaluation)
    with lock:
        out.extend(mine)


def run_phones(args: tuple[int, list[tuple[str, int, int]], float]) -> list[Evaluation]:
    """One load process: a thread per (desk path, evaluations, seed)."""
    port, plan, deadline = args
    out: list[Evaluation] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=phone_thread, args=(port, path, n, seed, deadline,
                                                           out, lock)) for path, n, seed in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children, read from /proc."""
    kids: list[int] = []
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            kids.extend(int(k) for k in (task / "children").read_text().split())
        except OSError:
            continue
    return kids


class Saboteur(threading.Thread):
    """SIGKILL one random worker every ``low``–``high`` seconds until stopped, or until
    ``most`` kills (a short run's kills early and often, then its workers left to finish:
    on a slow machine, killing faster than workers boot stalls the run for minutes)."""

    def __init__(self, master: int, low: float, high: float, seed: int,
                 most: int | None = None) -> None:
        super().__init__(daemon=True)
        self.master, self.low, self.high, self.most = master, low, high, most
        self.rng = random.Random(seed)
        self.stopped = threading.Event()
        self.kills = 0

    def run(self) -> None:
        while not self.stopped.wait(self.rng.uniform(self.low, self.high)):
            if self.most is not None and self.kills >= self.most:
                return
            workers = worker_pids(self.master)
            if not workers:
                continue
            try:
                os.kill(self.rng.choice(workers), signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                continue
