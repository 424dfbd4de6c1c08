#!/bin/bash
# Build a workbench release and upload it where the trading host's workbench-deploy reads it.
#
#   infrastructure/scripts/release.sh VERSION BUCKET [INSTANCE_ID]
#
#   VERSION      release name (letters, digits, . _ -), e.g. the short git SHA
#   BUCKET       terraform output -raw bucket_name
#   INSTANCE_ID  optional: also run `workbench-deploy VERSION` on it through SSM Run Command
#
# Needs a machine with a Docker engine and the AWS CLI. Uploads
#   s3://BUCKET/releases/VERSION/workbench-image.tar.gz   (docker save of workbench:VERSION)
#   s3://BUCKET/releases/VERSION/compose.tar.gz           (the two compose files)
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" >&2
  exit 2
}

[ "$#" -ge 2 ] && [ "$#" -le 3 ] || usage
version="$1"
bucket="$2"
instance_id="${3:-}"

if ! [[ "${version}" =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
  echo "release.sh: bad VERSION '${version}'" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
docker_dir="${repo_root}/infrastructure/docker"
image="workbench:${version}"
prefix="s3://${bucket}/releases/${version}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

echo "==> building ${image}"
docker build --file "${docker_dir}/Dockerfile" --target runtime --tag "${image}" "${repo_root}"

echo "==> packing"
docker save "${image}" | gzip -1 >"${work}/workbench-image.tar.gz"
tar -czf "${work}/compose.tar.gz" -C "${docker_dir}" docker-compose.yml docker-compose.prod.yml

echo "==> uploading to ${prefix}/"
aws s3 cp --only-show-errors "${work}/workbench-image.tar.gz" "${prefix}/workbench-image.tar.gz"
aws s3 cp --only-show-errors "${work}/compose.tar.gz" "${prefix}/compose.tar.gz"

if [ -n "${instance_id}" ]; then
  echo "==> deploying on ${instance_id}"
  command_id="$(aws ssm send-command \
    --instance-ids "${instance_id}" \
    --document-name AWS-RunShellScript \
    --comment "workbench-deploy ${version}" \
    --parameters "commands=[\"/usr/local/sbin/workbench-deploy ${version}\"]" \
    --query Command.CommandId --output text)"
  aws ssm wait command-executed --command-id "${command_id}" --instance-id "${instance_id}"
  aws ssm get-command-invocation --command-id "${command_id}" --instance-id "${instance_id}" \
    --query StandardOutputContent --output text
fi
echo "==> release ${version} done"
