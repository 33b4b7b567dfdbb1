"""A STOW request cancelled while a worker thread stores its parts (uvicorn cancels the requests still
running when a graceful shutdown times out). The thread is not waited for, so it owns the files from
then on: it stores them or removes them, and no index row ever names a file that is gone."""

import asyncio
import contextlib
import threading
import time
from pathlib import Path

from mock_server.app import create_app
from mock_server.storage import Store
from mock_server.tokens import load_secret, make_token
from tests.support.data_dir import index_rows, unindexed_files
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, multipart


async def _cancel_mid_store(app, token: str, body: bytes, content_type: str, started: threading.Event) -> None:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v2/studies", "raw_path": b"/v2/studies", "query_string": b"", "root_path": "",
        "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8080"), (b"authorization", f"Bearer {token}".encode()),
                    (b"content-type", content_type.encode()), (b"accept", DICOM_JSON.encode()),
                    (b"content-length", str(len(body)).encode())],
    }
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # the client waits for the answer
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        pass

    task = asyncio.ensure_future(app(scope, receive, send))
    assert await asyncio.to_thread(started.wait, 30), "the parts never reached the worker thread"
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_a_request_cancelled_while_its_parts_are_stored_leaves_no_row_without_its_file(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    store = Store(data_dir)
    started, release = threading.Event(), threading.Event()
    real_add_all = Store.add_all

    def held_add_all(self, *args, **kwargs):
        started.set()
        release.wait(30)  # the request is cancelled meanwhile
        return real_add_all(self, *args, **kwargs)

    monkeypatch.setattr(Store, "add_all", held_add_all)
    app = create_app(store, load_secret(data_dir))
    token, _ = make_token(data_dir)
    instances = [build_instance(), build_instance()]  # two parts: stored by the worker thread
    body, content_type = multipart([i.data for i in instances])
    try:
        # In a thread of its own: the test session may already run an event loop in this one.
        errors: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(_cancel_mid_store(app, token, body, content_type, started))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        runner = threading.Thread(target=run)
        runner.start()
        runner.join(60)
        assert not runner.is_alive() and not errors, errors
        release.set()
        deadline = time.monotonic() + 30
        while len(index_rows(data_dir)) < len(instances) and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = index_rows(data_dir)
        assert sorted(sop for sop, _, _ in rows) == sorted(i.sop for i in instances)
        assert all((Path(data_dir) / "files" / name).is_file() for _, name, _ in rows)
        assert unindexed_files(data_dir) == []
    finally:
        release.set()
        store.close()
