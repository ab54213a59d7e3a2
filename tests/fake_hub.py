"""A Hugging Face hub on loopback for one dataset repo: the endpoints the real
``huggingface_hub`` client calls to list a tree and download files (HEAD and GET on
``/datasets/<repo>/resolve/<rev>/<path>``, with Range requests), and ways to misbehave."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repo_id: str, files: dict[str, bytes]):
        self.repo_id = repo_id
        self.files = dict(files)  # what the listing says (sizes, sha256)
        self.served: dict[str, bytes] = {}  # path -> bytes served instead (corruption)
        self.cut_once: set[str] = set()  # paths whose first GET is cut halfway
        self.extra_listing: list[str] = []  # names listed but not served (hostile names)
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._resolve(self, head=True)

            def do_GET(self):
                if self.path.startswith(f"/api/datasets/{hub.repo_id}/tree/"):
                    hub._tree(self)
                else:
                    hub._resolve(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _send(handler, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
        handler.send_response(status)
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)) if "Content-Length" not in (headers or {}) else headers["Content-Length"])
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _tree(self, handler):
        self.requests.append(("GET", urlsplit(handler.path).path, None))
        entries = []
        for path, data in self.files.items():
            sha = hashlib.sha256(data).hexdigest()
            entries.append({"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data), "path": path,
                            "lfs": {"oid": sha, "size": len(data), "pointerSize": 134}})
        for path in self.extra_listing:
            entries.append({"type": "file", "oid": "0" * 40, "size": 10, "path": path})
        self._send(handler, 200, json.dumps(entries).encode(), {"Content-Type": "application/json"})

    def _resolve(self, handler, head: bool):
        prefix = f"/datasets/{self.repo_id}/resolve/"
        path = unquote(urlsplit(handler.path).path)
        self.requests.append(("HEAD" if head else "GET", path, handler.headers.get("Range")))
        if not path.startswith(prefix):
            return self._send(handler, 404, b"not found", {"X-Error-Code": "RepoNotFound"}, head)
        rev, _, name = path[len(prefix):].partition("/")
        if name not in self.files:
            return self._send(handler, 404, b"entry not found", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT}, head)
        data = self.served.get(name, self.files[name])
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(self.files[name]).hexdigest()}"',
                   "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        start = 0
        rng = handler.headers.get("Range")
        if rng and not head:
            start = int(rng.split("=", 1)[1].split("-", 1)[0])
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if head:
            return self._send(handler, 200, b"", {**headers, "Content-Length": str(len(data))}, head=True)
        if name in self.cut_once and not rng:
            self.cut_once.discard(name)
            handler.send_response(200)
            for k, v in headers.items():
                handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return None
        return self._send(handler, 206 if rng else 200, body, headers)
