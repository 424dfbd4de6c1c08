#!/bin/bash
# workbench-deploy VERSION
# Loads s3://<bucket>/releases/VERSION/{workbench-image.tar.gz,compose.tar.gz} (made by
# infrastructure/scripts/release.sh) and restarts the compose stack on it.
set -euo pipefail

# shellcheck source=/dev/null
. "${WORKBENCH_CONF:-/etc/workbench/workbench.conf}"

version="${1:-}"
if ! [[ "${version}" =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
  echo "usage: workbench-deploy VERSION   (letters, digits, . _ -)" >&2
  exit 2
fi

prefix="s3://${BUCKET}/releases/${version}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

aws s3 cp --only-show-errors --region "${AWS_REGION}" "${prefix}/compose.tar.gz" "${work}/compose.tar.gz"
aws s3 cp --only-show-errors --region "${AWS_REGION}" "${prefix}/workbench-image.tar.gz" "${work}/workbench-image.tar.gz"

image="$(docker load --input "${work}/workbench-image.tar.gz" | sed -n 's/^Loaded image: //p' | tail -n 1)"
if [ -z "${image}" ]; then
  echo "workbench-deploy: ${prefix}/workbench-image.tar.gz holds no tagged image" >&2
  exit 1
fi

mkdir -p "${COMPOSE_DIR}"
tar -xzf "${work}/compose.tar.gz" -C "${COMPOSE_DIR}" docker-compose.yml docker-compose.prod.yml

printf '%s\n' "${image}" >"${APP_DIR}/current-image"
printf '%s\n' "${version}" >"${APP_DIR}/current-release"

systemctl restart workbench.service
echo "workbench-deploy: release ${version} (${image}) is running"
