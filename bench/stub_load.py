"""The stub server under load: its memory and its errors, as figures (issue 8's "a stub that stays
small"). Not a target of ``bench/run.py``: a reliability figure, printed, never judged by time.

It starts ``python -m facedetect_contract serve`` on 127.0.0.1 (a child process, the sentinel key,
a temporary images folder) and samples the child's resident set (``VmRSS`` from /proc) every
20 ms while it runs three loads, one after the other:

- ``chunk``: 40 clients at once, each sending a chunked body the stub must refuse without
  buffering it: a negative chunk size, a malformed one, a chunk size of 2**60, and 8 MiB of real
  chunks (over the 1 MiB cap);
- ``image``: 40 requests at once for images the stub must not decode whole: a PNG whose header
  claims 100,000 x 100,000 pixels (a decompression bomb), and a real 7000 x 7000 PNG (the longest
  documented side);
- ``clients``: 200 clients at once, each one valid request for the portrait; then the same again
  (``clients again``), to tell what the allocator keeps from a leak.

For each load it prints the stub's resident set before, its peak during, and after a settling
second, plus what the clients got (answers by status, and errors: a reset, a timeout or an
answer that is not JSON). ``python3 bench/stub_load.py [--json]``; Linux only (/proc).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# As in run.py: bench/ first on sys.path would make bench/http.py shadow the standard library's.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from bench.common import SENTINEL_KEY

PATH = "/api/v1/services/aigc/image2video/face-detect"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def images_folder(directory: Path) -> Path:
    from PIL import Image

    shutil.copytree(ROOT / "fixtures" / "images", directory, dirs_exist_ok=True)
    (directory / "bomb.png").write_bytes(bomb_png(100_000, 100_000))
    Image.new("RGB", (7000, 7000), (200, 180, 160)).save(directory / "large-portrait.png")
    return directory


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler:
    """The child's resident set every 20 ms; ``peak()`` since the last ``reset()``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with contextlib.suppress(OSError):
                self._peak = max(self._peak, rss_kb(self.pid))

    def reset(self) -> None:
        self._peak = rss_kb(self.pid)

    def peak(self) -> int:
        return self._peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@contextlib.contextmanager
def stub(images: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DASHSCOPE_API_KEY": SENTINEL_KEY}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "facedetect_contract", "serve", "--port", str(port)]
    child = subprocess.Popen(
        [*command, "--images-dir", str(images)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("the stub did not start")
            time.sleep(0.05)
        yield port, child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def body_for(port: int, image: str) -> bytes:
    request = {
        "model": "emo-detect-v1",
        "input": {"image_url": f"http://127.0.0.1:{port}/images/{image}"},
        "parameters": {"ratio": "1:1"},
    }
    return json.dumps(request).encode()


def post(port: int, body: bytes) -> str:
    """One request; the answer's status, or what went wrong, as a word."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            PATH,
            body=body,
            headers={"Authorization": f"Bearer {SENTINEL_KEY}", "Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        payload = answer.read()
        json.loads(payload)
        return str(answer.status)
    except json.JSONDecodeError:
        return "not JSON"
    except TimeoutError:
        return "timeout"
    except OSError as error:
        return type(error).__name__
    finally:
        connection.close()


def post_chunked(port: int, chunks: list[bytes]) -> str:
    """Raw chunk framing (``chunks`` are sent as they are, size lines included); the status."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {SENTINEL_KEY}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            raw.sendall(head.encode())
            for chunk in chunks:
                raw.sendall(chunk)
        except OSError:
            pass  # refused before we finished sending: the answer says why
        answer = b""
        try:
            while block := raw.recv(65536):
                answer += block
        except TimeoutError:
            return "timeout"
        except OSError as error:
            if not answer:
                return type(error).__name__
    status_line, _, rest = answer.partition(b"\r\n")
    if not status_line.startswith(b"HTTP/1."):
        return "no answer"
    body = rest.partition(b"\r\n\r\n")[2]
    try:
        json.loads(body)
    except json.JSONDecodeError:
        return "not JSON"
    return status_line.split()[1].decode()


def chunk_loads() -> list[Callable[[int], str]]:
    block = b"x" * 65536
    over_cap = [f"{len(block):x}\r\n".encode() + block + b"\r\n"] * 128 + [b"0\r\n\r\n"]
    shapes = [
        [b"-5\r\nabc\r\n0\r\n\r\n"],
        [b"zz\r\nabc\r\n0\r\n\r\n"],
        [b"1000000000000000\r\n", b"y" * 4096],
        over_cap,
    ]

    def sender(shape: list[bytes]) -> Callable[[int], str]:
        return lambda port: post_chunked(port, shape)

    return [sender(shape) for shape in shapes] * 10


def image_request(name: str) -> Callable[[int], str]:
    return lambda port: post(port, body_for(port, name))


def run_load(port: int, calls: list[Callable[[int], str]], sampler: Sampler) -> dict[str, Any]:
    sampler.reset()
    before = rss_kb(sampler.pid)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        got = Counter(pool.map(lambda call: call(port), calls))
    seconds = time.monotonic() - started
    peak = sampler.peak()
    time.sleep(1.0)
    after = rss_kb(sampler.pid)
    answers = {k: v for k, v in got.items() if k.isdigit()}
    return {
        "requests": len(calls),
        "answers": dict(sorted(answers.items())),
        "errors": {k: v for k, v in got.items() if not k.isdigit()},
        "seconds": round(seconds, 2),
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_after_mb": round(after / 1024, 1),
    }


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        images = images_folder(Path(scratch) / "images")
        with stub(images) as (port, child):
            post(port, body_for(port, "portrait.png"))  # warm: imports and the first decode
            sampler = Sampler(child.pid)
            try:
                start = rss_kb(child.pid)
                loads: dict[str, list[Callable[[int], str]]] = {
                    "chunk": chunk_loads(),
                    "image": [image_request(name) for name in ("bomb.png", "large-portrait.png")]
                    * 20,
                    "clients": [lambda p: post(p, body_for(p, "portrait.png"))] * 200,
                }
                # The 200 clients twice: the allocator keeps some of what the first round's
                # threads used; a second round that ends where the first did is not a leak.
                loads["clients again"] = loads["clients"]
                figures = {name: run_load(port, calls, sampler) for name, calls in loads.items()}
            finally:
                sampler.stop()
            return {"rss_start_mb": round(start / 1024, 1), "loads": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("stub_load: needs Linux's /proc to read the stub's memory", file=sys.stderr)
        return 2
    figures = measure()
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"stub resident set after one request: {figures['rss_start_mb']} MiB")
    print("| load | requests | answers | errors | s | RSS before | peak | after (MiB) |")
    print("|---|---:|---|---|---:|---:|---:|---:|")
    for name, load in figures["loads"].items():
        answers = ", ".join(f"{k}: {v}" for k, v in load["answers"].items())
        errors = ", ".join(f"{k}: {v}" for k, v in load["errors"].items()) or "0"
        print(
            f"| {name} | {load['requests']} | {answers} | {errors} | {load['seconds']} "
            f"| {load['rss_before_mb']} | {load['rss_peak_mb']} | {load['rss_after_mb']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
