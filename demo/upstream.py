"""Demo upstream for Portcullis: echoes every request back as JSON.

Answers every method and path with 200 and a JSON body
``{"method": ..., "path": ..., "headers": {lowercased-name: value}}`` so that a
human running ``make run`` (or an end-to-end test) can see exactly which identity
headers Envoy forwarded. Duplicate headers are joined with ", ". Standard library
only.

    python3 demo/upstream.py --port 8081 [--host 127.0.0.1]
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    """Replies 200 with the request line and headers as JSON, keeping the connection."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the peer's delayed ACK add about 40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    def version_string(self):
        return "portcullis-demo-upstream"

    def handle_one_request(self):
        # Dispatch every method (GET, POST, PROPFIND, ...) to the same echo.
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self.echo()
            self.wfile.flush()
        except TimeoutError as error:
            self.log_error("request timed out: %r", error)
            self.close_connection = True

    def echo(self):
        self.discard_body()
        headers = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        body = json.dumps(
            {"method": self.command, "path": self.path, "headers": headers}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def discard_body(self):
        length = self.headers.get("Content-Length")
        if length is not None:
            remaining = int(length)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
        elif "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers end with an empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                self.rfile.read(size + 2)

    def log_message(self, format, *args):
        sys.stderr.write(f"upstream: {format % args}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), EchoHandler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"demo upstream listening on http://{host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
