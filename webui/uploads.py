"""Evidence files uploaded with a task form: checked, scanned, stored under the instance folder with random names.

A file is accepted only if its extension is allowed, its first bytes match that kind of file, it is not empty or too
large, and the virus-scan hook passes it. It is stored as ``instance/uploads/<token>`` (a random name: nothing the
user typed reaches the file system), with ``<token>.json`` beside it holding its original name, type, size, SHA-256,
and the case and task it belongs to. The form's answer is the token; a download checks the case it belongs to.
A report attached to a request for an assessment has no case or task yet: it names its request instead (and its
uploader is nobody when a parent asks without an account).

The virus-scan hook is ``app.config["VIRUS_SCANNER"]``: a function ``(path, filename) -> reason | None`` returning why
the file is refused, or None. Without one, files are sent to ClamAV when ``EHCFLOW_CLAMD_SOCKET`` is set (and refused
if it cannot be reached: fail closed), and are otherwise checked only for the EICAR test signature, so the refusal
path can be tried anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import socket
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from werkzeug.datastructures import FileStorage

Scanner = Callable[[Path, str], str | None]

TOKEN = re.compile(r"^[a-f0-9]{32}$")

# The first bytes each kind of file must start with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".rtf": (b"{\\rtf",),
}
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".doc": "application/msword",
    ".rtf": "application/rtf",
    ".txt": "text/plain",
}
KIND_NAMES = {".pdf": "PDF", ".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".docx": "Word document",
              ".doc": "Word document", ".odt": "OpenDocument text", ".rtf": "rich text", ".txt": "text file"}

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class UploadRejected(Exception):
    """The message says why, in GOV.UK words, for the field's error."""


@dataclass
class StoredUpload:
    token: str
    filename: str
    content_type: str
    size: int
    sha256: str
    case_id: int | None
    task_id: int | None
    uploaded_by: int | None
    uploaded_at: str
    request_id: int | None = None  # a report attached to a request for an assessment (no case or task yet)


def folder(instance_path: str | Path) -> Path:
    path = Path(instance_path) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # families' reports: only this user may read them
    return path


def _private(path: Path) -> BinaryIO:
    """A new file open for writing, readable by this user only (0600, whatever the umask); fails if it exists."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip() or "file"
    return name[:200]


def human_size(size: int) -> str:
    """'10MB', '500KB' (GOV.UK writes sizes without a space)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g}MB"
    return f"{max(1, -(-size // 1024))}KB"


def describe_allowed(extensions: tuple[str, ...]) -> str:
    names: list[str] = []
    for ext in extensions:
        label = KIND_NAMES.get(ext, ext.lstrip(".").upper())
        if label not in names:
            names.append(label)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def store(file: FileStorage, base: Path, *, extensions: tuple[str, ...], max_bytes: int, scanner: Scanner,
          case_id: int | None, task_id: int | None, user_id: int | None, now: datetime,
          request_id: int | None = None) -> StoredUpload:
    """Checks and stores an uploaded file; raises UploadRejected with the message to show."""
    filename = _safe_name(file.filename or "")
    ext = Path(filename).suffix.lower()
    allowed = tuple(e.lower() for e in extensions)
    if ext not in allowed:
        raise UploadRejected(f"The selected file must be a {describe_allowed(allowed)}")
    token = secrets.token_hex(16)
    target = base / token
    digest = hashlib.sha256()
    size = 0
    head = b""
    with _private(target) as out:
        while chunk := file.stream.read(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                target.unlink(missing_ok=True)
                raise UploadRejected(f"The selected file must be smaller than {human_size(max_bytes)}")
            if len(head) < 16:
                head += chunk[:16]
            digest.update(chunk)
            out.write(chunk)
    try:
        if size == 0:
            raise UploadRejected("The selected file is empty")
        if not _matches(ext, head, target):
            raise UploadRejected(f"The selected file must be a {describe_allowed(allowed)}")
        reason = scanner(target, filename)
        if reason:
            raise UploadRejected(reason)
    except UploadRejected:
        target.unlink(missing_ok=True)
        raise
    stored = StoredUpload(token, filename, CONTENT_TYPES.get(ext, "application/octet-stream"), size,
                          digest.hexdigest(), case_id, task_id, user_id, now.isoformat(), request_id)
    with _private(base / f"{token}.json") as meta:
        meta.write(json.dumps(asdict(stored)).encode("utf-8"))
    return stored


def _matches(ext: str, head: bytes, path: Path) -> bool:
    if ext == ".txt":
        data = path.read_bytes()[:65536]
        if b"\x00" in data:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.start > len(data) - 4  # cut in the middle of a character at the end of the sample
        return True
    signatures = SIGNATURES.get(ext)
    return signatures is None or any(head.startswith(s) for s in signatures)


def load(base: Path, token: str) -> StoredUpload | None:
    if not TOKEN.match(token or ""):
        return None
    meta = base / f"{token}.json"
    if not meta.is_file() or not (base / token).is_file():
        return None
    return StoredUpload(**json.loads(meta.read_text(encoding="utf-8")))


def path_of(base: Path, upload: StoredUpload) -> Path:
    return base / upload.token


def discard(base: Path, token: str) -> None:
    """Deletes a stored file and its record (a report taken off a request before it was sent)."""
    if TOKEN.match(token or ""):
        (base / token).unlink(missing_ok=True)
        (base / f"{token}.json").unlink(missing_ok=True)


# ---- virus scanning ----------------------------------------------------------------------------------------------

VIRUS_MESSAGE = "The selected file contains a virus"


def eicar_scanner(path: Path, filename: str) -> str | None:
    """Refuses the EICAR test file: a stand-in that lets the refusal be tested where no virus scanner runs."""
    with open(path, "rb") as handle:
        return VIRUS_MESSAGE if EICAR in handle.read(1024 * 1024) else None


def clamd_scanner(socket_path: str, timeout: float = 30.0) -> Scanner:
    """Scans with a ClamAV daemon over its socket (INSTREAM); refuses the file if the daemon cannot be reached."""

    def scan(path: Path, filename: str) -> str | None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout)
                conn.connect(socket_path)
                conn.sendall(b"zINSTREAM\0")
                with open(path, "rb") as handle:
                    while chunk := handle.read(64 * 1024):
                        conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = conn.recv(4096)
                    if not part:
                        break
                    reply += part
        except OSError:
            return "The selected file could not be checked for viruses. Try again later"
        text = reply.rstrip(b"\0").decode("utf-8", "replace")
        if text.endswith("OK"):
            return None
        return VIRUS_MESSAGE if "FOUND" in text else "The selected file could not be checked for viruses"

    return scan


def scanner_for(config: dict[str, object]) -> Scanner:
    hook = config.get("VIRUS_SCANNER")
    if callable(hook):
        return hook  # type: ignore[return-value]
    socket_path = config.get("CLAMD_SOCKET")
    if isinstance(socket_path, str) and socket_path:
        return clamd_scanner(socket_path)
    return eicar_scanner
