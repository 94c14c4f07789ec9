"""The learner's notification channel, standing in for Slack: a webhook that records what
Alertmanager sends it.

GET /received lists the notifications; POST /fail makes every later notification answer
500 (a broken channel), POST /heal makes it answer 200 again.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received: list[object] = []
failing = False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        global failing
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/fail":
            failing = True
        elif self.path == "/heal":
            failing = False
        elif failing:
            self._answer(500, {"error": "channel down"})
            return
        else:
            received.append(json.loads(body or b"null"))
        self._answer(200, {"ok": True})

    def do_GET(self) -> None:
        self._answer(200, received if self.path == "/received" else {"ok": True})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
