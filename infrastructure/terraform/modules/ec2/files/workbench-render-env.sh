#!/bin/bash
# Writes the compose env files of the workbench stack from /etc/workbench/workbench.conf
# and the two Secrets Manager secrets:
#   .env             non-secret settings for ${...} interpolation in the compose files
#   workbench.env    JUPYTER_TOKEN, DATABENTO_API_KEY   (JupyterLab container only)
#   ib-gateway.env   TWS_USERID, TWS_PASSWORD           (IB Gateway container only)
# Runs as ExecStartPre of workbench.service, so a rotated secret takes effect with
# `systemctl restart workbench`.
set -euo pipefail

# shellcheck source=/dev/null
. "${WORKBENCH_CONF:-/etc/workbench/workbench.conf}"

# Compose reads single-quoted env-file values literally (no $ interpolation), so any value
# is safe except one holding a single quote or a newline.
line() {
  case "$2" in
    *"'"* | *$'\n'*)
      echo "workbench-render-env: $1 contains a single quote or newline, which a compose env file cannot hold" >&2
      exit 1
      ;;
  esac
  printf "%s='%s'\n" "$1" "$2"
}

# write FILE: stdin -> FILE, mode 0600, replaced atomically.
write() {
  local tmp
  tmp="$(mktemp "${COMPOSE_DIR}/.render.XXXXXX")"
  cat >"${tmp}"
  chmod 0600 "${tmp}"
  mv "${tmp}" "${COMPOSE_DIR}/$1"
}

secret() {
  aws secretsmanager get-secret-value --region "${AWS_REGION}" --secret-id "$1" \
    --query SecretString --output text
}

umask 077
mkdir -p "${COMPOSE_DIR}"

databento_key="$(secret "${DATABENTO_SECRET_ARN}")"
ib_json="$(secret "${IB_CREDENTIALS_SECRET_ARN}")"
ib_user="$(jq -er '.username' <<<"${ib_json}")"
ib_password="$(jq -er '.password' <<<"${ib_json}")"

# The gateway image relays its API to the compose network on 4004 (paper) / 4003 (live).
if [ "${TRADING_MODE}" = "live" ]; then
  ib_port=4003
else
  ib_port=4004
fi

# Keep the Jupyter token across restarts; make one on the first start.
token=""
if [ -f "${COMPOSE_DIR}/workbench.env" ]; then
  token="$(sed -n "s/^JUPYTER_TOKEN='\(.*\)'$/\1/p" "${COMPOSE_DIR}/workbench.env")"
fi
if [ -z "${token}" ]; then
  token="$(openssl rand -hex 32)"
fi

image="$(cat "${APP_DIR}/current-image")"

# Build every file in full first (a bad value aborts before anything is replaced).
header="# Written by workbench-render-env; do not edit."
settings="$(
  echo "${header}"
  line WORKBENCH_IMAGE "${image}"
  line TRADING_MODE "${TRADING_MODE}"
  line WORKBENCH_IB_PORT "${ib_port}"
  line WORKBENCH_ENVIRONMENT "${ENVIRONMENT}"
  line AWS_REGION "${AWS_REGION}"
  line WORKBENCH_BUCKET "${BUCKET}"
  line WORKBENCH_LOG_GROUP "${LOG_GROUP}"
)"
workbench_secrets="$(
  echo "${header}"
  line JUPYTER_TOKEN "${token}"
  line DATABENTO_API_KEY "${databento_key}"
)"
gateway_secrets="$(
  echo "${header}"
  line TWS_USERID "${ib_user}"
  line TWS_PASSWORD "${ib_password}"
)"

printf '%s\n' "${settings}" | write .env
printf '%s\n' "${workbench_secrets}" | write workbench.env
printf '%s\n' "${gateway_secrets}" | write ib-gateway.env

echo "workbench-render-env: wrote .env, workbench.env and ib-gateway.env in ${COMPOSE_DIR}"
