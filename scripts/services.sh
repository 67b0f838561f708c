#!/usr/bin/env bash
# Makes sure the local PostgreSQL and RabbitMQ are running (this machine kind
# starts them at boot; this starts whichever has stopped) and waits until they answer.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "starting RabbitMQ"
  # A running node whose application was stopped (rabbitmqctl stop_app, as
  # bench-load --restart-broker-at does) only needs start_app.
  rabbitmqctl -q start_app 2>/dev/null || rabbitmq-server -detached
fi

for _ in $(seq 1 120); do
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    # RabbitMQ's Prometheus endpoint (:15692), which the dashboards read and
    # worker/tests/pipeline/alerts.rs scrapes. Enabling a plugin is online:
    # the broker keeps running. Without it that test uses a captured fixture.
    if ! (exec 3<>/dev/tcp/127.0.0.1/15692) 2>/dev/null; then
      rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null 2>&1 \
        || echo "could not enable rabbitmq_prometheus (the metrics test will use its fixture)" >&2
    fi
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL or RabbitMQ did not come up within 120 s" >&2
exit 1
