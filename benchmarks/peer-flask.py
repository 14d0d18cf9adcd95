"""Flask-SocketIO (the system socketio-actors ports) as a peer of the benchmark.

Debian's python3-flask-socketio 5.3.2 on python-socketio 5.7.2 / python-engineio 4.3.4,
with bench-app.ts's handlers: `echo` acks its argument, `cpu` burns that many ms then
acks, `broadcast` sends `news` to everyone in namespace '/'. The same heartbeat as the
other peers (25 s / 20 s). Run by benchmarks/peer-flask.ts, which speaks to it so:

    stdout, first line   {"port": N, "mode": "gevent"}    once it listens on 127.0.0.1:N
    GET /bench/rss       {"rss": bytes}    VmRSS after a full gc.collect()
    SIGTERM              stops it

BENCH_FLASK_MODE picks the async mode: `gevent` (the default: gevent's WSGI server with
gevent-websocket) or `eventlet`; peer-flask.ts says why gevent. Each mode is monkey-patched
first, as Flask-SocketIO's deployment docs ask.
"""

import os
import sys

MODE = os.environ.get("BENCH_FLASK_MODE", "gevent")
if MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
elif MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
else:
    sys.exit(f"BENCH_FLASK_MODE: unknown mode {MODE!r}; choose gevent or eventlet")

import gc  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from flask import Flask, jsonify  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

# The other peers listen with Node's default backlog; eventlet's default (50) would drop
# SYNs under the connect scenario's batches and measure retransmits, not the server.
BACKLOG = 511

app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode=MODE,
    ping_interval=25,
    ping_timeout=20,
    logger=False,
    engineio_logger=False,
)


def burn(ms):
    """Busy-waits `ms` milliseconds (the CPU-bound handler's work)."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


@socketio.on("echo")
def echo(data):
    return data


@socketio.on("cpu")
def cpu(ms):
    burn(ms)
    return ms


@socketio.on("broadcast")
def broadcast(data):
    socketio.emit("news", data)


def rss_bytes():
    """Resident set size from /proc/self/status (VmRSS is in KiB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@app.route("/bench/rss")
def rss():
    # Measured on what the process keeps, not on garbage not collected yet (server-ipc.ts).
    gc.collect()
    return jsonify(rss=rss_bytes())


def ready(port):
    sys.stdout.write(json.dumps({"port": port, "mode": MODE}) + "\n")
    sys.stdout.flush()


def serve_gevent():
    # What socketio.run() does in gevent mode, but on port 0 so the port can be reported.
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    server = pywsgi.WSGIServer(
        ("127.0.0.1", 0), app, handler_class=WebSocketHandler, log=None, backlog=BACKLOG
    )
    server.start()
    ready(server.server_port)
    server.serve_forever()


def serve_eventlet():
    # What socketio.run() does in eventlet mode, on a listener it cannot size or report.
    import eventlet.wsgi

    listener = eventlet.listen(("127.0.0.1", 0), backlog=BACKLOG)
    ready(listener.getsockname()[1])
    eventlet.wsgi.server(listener, app, log_output=False)


if __name__ == "__main__":
    serve_gevent() if MODE == "gevent" else serve_eventlet()
