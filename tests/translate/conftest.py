"""Fixtures of the translation tests: tiny .argosmodel packages built once per session, a data
directory to install them into, and a LibreTranslate stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.translate.tiny_model import build_package


@pytest.fixture(scope="session")
def packages(tmp_path_factory) -> dict[str, Path]:
    """zh→en, en→vi and ja→vi packages (random models over real tokenizers)."""
    root = tmp_path_factory.mktemp("packages")
    return {"zh-en": build_package(root, "zh", "en", seed=1), "en-vi": build_package(root, "en", "vi", seed=2),
            "zh-vi": build_package(root, "zh", "vi", seed=3)}


class LibreTranslate:
    """A LibreTranslate stand-in: ``/translate`` answers each text reversed and tagged with the
    target language; ``/languages`` lists zh, en and vi. ``requests`` records what it received;
    ``status`` and ``hold`` make it fail or keep the client waiting."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.api_key: str | None = None
        self.hold = threading.Event()
        self.hold.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/languages":
                    self._send(200, [{"code": c, "name": c, "targets": ["zh", "en", "vi"]} for c in ("zh", "en", "vi")])
                else:
                    self._send(404, {"error": "Not Found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                outer.hold.wait(10)
                if outer.status != 200:
                    self._send(outer.status, {"error": "Slowdown: too many requests"})
                elif outer.api_key and body.get("api_key") != outer.api_key:
                    self._send(403, {"error": "Invalid API key"})
                else:
                    texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
                    out = [f"[{body['target']}] {t[::-1]}" for t in texts]
                    self._send(200, {"translatedText": out if isinstance(body["q"], list) else out[0]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def libretranslate():
    server = LibreTranslate()
    yield server
    server.close()
