#!/usr/bin/env bash
# Starts what the specs talk to, on loopback, when it is not running already:
# Redis (6379) and RabbitMQ (5672); installs them, Chromium and python-socketio (with
# python3-msgpack for its msgpack serializer) from Debian's packages when missing.
set -euo pipefail

need_apt_update=1
apt_install() {
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  rabbitmq-server -detached
fi

# The browser specs drive Debian's Chromium; python-socketio is the interop peer on Redis and,
# as a client (it needs requests and websocket-client, and msgpack for serializer='msgpack'),
# of the login, python-client and msgpack specs.
command -v chromium >/dev/null || apt_install chromium
/usr/bin/python3 -c 'import socketio, redis, requests, websocket, msgpack' 2>/dev/null ||
  apt_install python3-socketio python3-redis python3-requests python3-websocket python3-msgpack

for _ in $(seq 1 120); do
  if port_open 6379 && port_open 5672; then echo "services: redis and rabbitmq are up"; exit 0; fi
  sleep 1
done
echo "services: redis or rabbitmq did not start within 120 s" >&2
exit 1
