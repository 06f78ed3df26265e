"""Two `covet run --workers 2` instances of one app behind a real nginx (Debian's, on loopback),
sharing the machine's Redis: sessions, JWT revocation, a shared rate limit, WebSocket rooms and
jobs work whichever instance answers, and stopping one instance under load loses no request
(nginx retries what an instance refused while draining on the other)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from websockets.sync.client import connect

from tests.conftest import ROOT, Server, free_port, start_server, wait_for, wait_for_port

APP = "tests.apps.cluster_app:app"

NGINX_CONF = """
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream covet {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=5s;
        keepalive 16;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://covet;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_next_upstream error timeout http_502;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


class Cluster:
    def __init__(self, url: str, instances: dict[str, Server], prefix: str) -> None:
        self.url = url
        self.instances = instances
        self.prefix = prefix
        self.client = httpx.Client(base_url=url, timeout=15)

    def until_both(self, call: Callable[[], httpx.Response], check: Callable[[httpx.Response], None]) -> None:
        """Repeats `call` through nginx until both instances have answered, checking each answer."""
        seen: set[str] = set()
        for _ in range(60):
            response = call()
            check(response)
            seen.add(response.json()["instance"])
            if seen == {"a", "b"}:
                return
        raise AssertionError(f"only {seen} answered")


def start_nginx(tmp: Path, a: int, b: int) -> tuple[subprocess.Popen[bytes], int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing (scripts/services.sh installs Debian's)"
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, a=a, b=b, port=port))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_port(port, proc)
    return proc, port


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    prefix = f"covet-test:cluster:{uuid.uuid4().hex[:8]}"
    saved = {k: os.environ.get(k) for k in ("COVET_CLUSTER_PREFIX", "COVET_INSTANCE")}
    os.environ["COVET_CLUSTER_PREFIX"] = prefix
    instances: dict[str, Server] = {}
    for name in ("a", "b"):
        os.environ["COVET_INSTANCE"] = name
        instances[name] = start_server(APP, "--workers", "2")
    os.environ["COVET_INSTANCE"] = "worker"
    worker = subprocess.Popen(
        [sys.executable, "-m", "covet", "worker", APP], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    worker_out = Server(worker, 0, "worker")
    nginx, port = start_nginx(tmp_path_factory.mktemp("nginx"), instances["a"].port, instances["b"].port)
    try:
        yield Cluster(f"http://127.0.0.1:{port}", instances, prefix)
    finally:
        nginx.terminate()
        nginx.wait(10)
        worker_out.stop()
        for server in instances.values():
            server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        store = redis.Redis()
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)


def test_session_is_seen_by_both_instances(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.url, timeout=15) as browser:
        assert browser.post("/session/blue").status_code == 200

        def check(response: httpx.Response) -> None:
            assert response.status_code == 200 and response.json()["value"] == "blue"

        cluster.until_both(lambda: browser.get("/session"), check)


def test_jwt_revoked_on_one_instance_is_refused_by_both(cluster: Cluster) -> None:
    token = cluster.client.post("/login/ada").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    def ok(response: httpx.Response) -> None:
        assert response.status_code == 200 and response.json()["sub"] == "ada"

    cluster.until_both(lambda: cluster.client.get("/me", headers=auth), ok)
    assert cluster.client.post("/logout", headers=auth).status_code == 200
    answered: set[int] = set()
    for _ in range(40):
        response = cluster.client.get("/me", headers=auth)
        answered.add(response.status_code)
    assert answered == {401}


def test_rate_limit_is_shared(cluster: Cluster) -> None:
    codes = [cluster.client.get("/limited").status_code for _ in range(12)]
    assert codes.count(200) == 5 and codes.count(429) == 7
    assert codes[:5] == [200] * 5


def test_room_message_crosses_instances(cluster: Cluster) -> None:
    ws_url = cluster.url.replace("http://", "ws://") + "/rooms/hall"
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(connect(ws_url, open_timeout=10))
        first_on = json.loads(first.recv(10))["instance"]
        for _ in range(20):  # nginx alternates instances: the next connection or so lands elsewhere
            other = stack.enter_context(connect(ws_url, open_timeout=10))
            if json.loads(other.recv(10))["instance"] != first_on:
                break
        else:
            raise AssertionError("every connection went to one instance")
        first.send("hello")
        message = json.loads(other.recv(10))
        while message.get("text") != "hello":
            message = json.loads(other.recv(10))
        assert message["instance"] == first_on  # sent by the first instance, delivered by the other


def test_job_enqueued_on_one_instance_runs_on_the_worker(cluster: Cluster) -> None:
    enqueued = cluster.client.post("/jobs/double/21").json()
    answers = {}
    for _ in range(10):
        answer = cluster.client.get(f"/jobs/{enqueued['id']}").json()
        answers[answer["instance"]] = answer["result"]
    assert all(result == {"double": 42, "instance": "worker", "pid": result["pid"]} for result in answers.values())


def test_cache_invalidated_on_one_instance_is_fresh_on_both(cluster: Cluster) -> None:
    assert cluster.client.post("/price/tea/3").status_code == 200

    def three(response: httpx.Response) -> None:
        assert response.status_code == 200 and response.json()["price"] == 3

    cluster.until_both(lambda: cluster.client.get("/price/tea"), three)  # now in every memory level
    assert cluster.client.post("/price/tea/5").status_code == 200
    # The invalidation travels by Redis pub/sub to each worker's memory level (docs/caching.md).
    wait_for(
        lambda: all(cluster.client.get("/price/tea").json()["price"] == 5 for _ in range(8)),
        "every worker of both instances to drop the old price",
    )


def test_stopping_one_instance_under_load_loses_nothing(cluster: Cluster) -> None:
    failures: list[Any] = []
    answered: dict[str, int] = {"a": 0, "b": 0}
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=cluster.url, timeout=15) as client:
            while not stop.is_set():
                try:
                    response = client.get("/who")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code != 200:
                    failures.append(response.status_code)
                else:
                    answered[response.json()["instance"]] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: answered["a"] > 50 and answered["b"] > 50, "both instances under load")
        code, output = cluster.instances["a"].stop(signal.SIGTERM, timeout=30)
        assert code == 0, output
        after = answered["b"]
        wait_for(lambda: answered["b"] > after + 200, "instance b carrying the load alone")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
