#!/usr/bin/env bash
# Installs what the peer benchmark needs beyond npm, from Debian's packages, when missing:
# Flask-SocketIO (the system this project ports) with gevent and gevent-websocket, the
# async mode it runs in there (benchmarks/peer-flask.py says why that mode).
# Never fails the benchmark: where it cannot install, it says why, and the benchmark skips
# the flask-socketio peer with the same reason (benchmarks/peer-flask.ts checks the imports).
set -uo pipefail

PACKAGES=(python3-flask-socketio python3-gevent python3-gevent-websocket python3-eventlet)

if /usr/bin/python3 -c 'import flask_socketio, gevent, geventwebsocket, eventlet' 2>/dev/null; then
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "bench-deps: cannot install ${PACKAGES[*]} (not root, no password-less sudo); the flask-socketio peer will be skipped" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "bench-deps: no apt-get here to install ${PACKAGES[*]}; the flask-socketio peer will be skipped" >&2
  exit 0
fi

echo "bench-deps: installing ${PACKAGES[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq &&
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; }; then
  echo "bench-deps: apt-get could not install ${PACKAGES[*]}; the flask-socketio peer will be skipped" >&2
fi
exit 0
