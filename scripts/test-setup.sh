#!/usr/bin/env bash
# What the tests need that a fresh machine lacks, from Debian's packages, installed when absent by
# `make test` (so CI and a developer run the same suite; no test is skipped): a Docker daemon for
# the docker tests (docker-launcher.test.ts, server-image.test.ts), started when it does not
# answer; zsh and fish for the completion tests; Chromium for the web UI's browser tests;
# PostgreSQL for the PostgreSQL store's tests (test/e2e/support/postgres.ts starts its own cluster).
#
# The daemon gets no default bridge (and so no 172.17.0.0/16 network and no NAT rules): the tests
# use host networking only, and every connection stays on loopback.
set -euo pipefail

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

if answers; then exit 0; fi
echo "starting dockerd (log: /tmp/coflux-dockerd.log)" >&2
nohup dockerd --bridge=none --iptables=false --ip6tables=false >/tmp/coflux-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if answers; then exit 0; fi
  sleep 1
done
echo "dockerd did not answer within 60 s:" >&2
tail -20 /tmp/coflux-dockerd.log >&2
exit 1
