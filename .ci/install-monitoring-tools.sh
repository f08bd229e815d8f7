#!/usr/bin/env bash
# Installs the monitoring tools that test/monitoring runs for real, from Debian's packages:
#   prometheus (+ promtool), prometheus-alertmanager (+ amtool), the Postgres and Redis exporters,
#   docker-compose (validates the compose file without a daemon) and python3-yaml (the YAML parser
#   the tests fall back to when the `yaml` npm devDependency is not installed).
# Idempotent: installs only what is missing, runs `apt-get update` at most once.
# Leaves no daemon running: the packages' postinst scripts would start their services, so a
# policy-rc.d that refuses every start is in place while apt runs (an existing one is kept).
set -euo pipefail

packages=(
  prometheus
  prometheus-alertmanager
  prometheus-postgres-exporter
  prometheus-redis-exporter
  docker-compose
  python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "monitoring tools: all present (${packages[*]})"
else
  echo "monitoring tools: installing ${missing[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi

  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# installed by install-monitoring-tools.sh while apt runs\nexit 101\n' \
      | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    created_policy=1
  fi
  cleanup() {
    if [ "$created_policy" -eq 1 ]; then "${as_root[@]}" rm -f "$policy"; fi
  }
  trap cleanup EXIT

  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update
  "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# On a host run by systemd, policy-rc.d does not stop a unit that was already enabled and
# running before: make sure none of the packaged daemons keep running or start at boot.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for unit in prometheus prometheus-alertmanager prometheus-postgres-exporter prometheus-redis-exporter \
              prometheus-node-exporter; do
    if systemctl list-unit-files "$unit.service" >/dev/null 2>&1; then
      systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
    fi
  done
fi

for tool in prometheus promtool prometheus-alertmanager amtool prometheus-postgres-exporter \
            prometheus-redis-exporter docker-compose; do
  command -v "$tool" >/dev/null || { echo "monitoring tools: $tool not on PATH after install" >&2; exit 1; }
done
/usr/bin/python3 -c 'import yaml' || { echo "monitoring tools: python3-yaml not importable" >&2; exit 1; }
echo "monitoring tools: $(prometheus --version 2>&1 | head -1)"
echo "monitoring tools: $(prometheus-alertmanager --version 2>&1 | head -1)"
