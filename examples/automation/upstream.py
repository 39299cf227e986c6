"""A tiny stand-in for the QA jobs API: POST /v1/jobs, GET /v1/jobs/<id>, GET /healthz (stdlib only)."""

# Jobs go queued -> running -> succeeded over --job-seconds. A repeated Idempotency-Key returns the
# job it created first (200 instead of 201). Usage: python3 upstream.py --port 8080

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JobsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API behind a gateway
    disable_nagle_algorithm = True  # headers and body as they are written, no 40 ms delayed-ACK stalls
    server: JobsServer

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self.reply(200, {"status": "ok"})
        elif self.path.startswith("/v1/jobs/"):
            job = self.server.jobs.get(self.path.removeprefix("/v1/jobs/"))
            if job is None:
                self.reply(404, {"error": "no such job"})
            else:
                self.reply(200, self.server.view(job))
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path != "/v1/jobs":
            self.reply(404, {"error": "not found"})
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            self.reply(400, {"error": "body is not JSON"})
            return
        status, job = self.server.create(body, self.headers.get("Idempotency-Key"))
        self.reply(status, self.server.view(job))

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        print(f"upstream: {self.address_string()} {format % args}", file=sys.stderr)


class JobsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], job_seconds: float) -> None:
        super().__init__(address, JobsHandler)
        self.job_seconds = job_seconds
        self.jobs: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.lock = threading.Lock()

    def create(self, body: dict[str, Any], key: str | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if key and key in self.by_key:
                return 200, self.jobs[self.by_key[key]]
            job: dict[str, Any] = {"id": uuid.uuid4().hex[:12], "request": body, "created": time.monotonic()}
            self.jobs[job["id"]] = job
            if key:
                self.by_key[key] = job["id"]
            return 201, job

    def view(self, job: dict[str, Any]) -> dict[str, Any]:
        age = time.monotonic() - job["created"]
        if age < self.job_seconds / 3:
            state = "queued"
        else:
            state = "running" if age < self.job_seconds else "succeeded"
        return {"id": job["id"], "state": state, "task": job["request"].get("task")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--job-seconds", type=float, default=3.0, help="how long a job takes to succeed")
    args = parser.parse_args()
    server = JobsServer((args.host, args.port), args.job_seconds)
    print(f"upstream: QA jobs API on http://{args.host}:{server.server_address[1]}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
