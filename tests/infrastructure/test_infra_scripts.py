"""The instance's shell: user data template, helper scripts, systemd unit, release script.

shellcheck lints them; the helpers also run for real against fake ``aws``, ``docker`` and
``systemctl`` commands, so what they write (and refuse to write) is checked, not assumed.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.infrastructure.infra_support import DOCKER, INFRA, TF, read_env_file, venv_tool

EC2 = TF / "modules" / "ec2"
TEMPLATE = EC2 / "templates" / "user_data.sh.tftpl"
RENDER_ENV = EC2 / "files" / "workbench-render-env.sh"
DEPLOY = EC2 / "files" / "workbench-deploy.sh"
UNIT = EC2 / "files" / "workbench.service"
RELEASE = INFRA / "scripts" / "release.sh"
SCRIPTS = (RENDER_ENV, DEPLOY, RELEASE)

USER_DATA_LIMIT = 16 * 1024  # EC2 rejects larger user data

TEMPLATE_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_]\w*)\}")


def _shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_tool("shellcheck")), "--shell=bash", "--severity=style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------------------
# User data
# ---------------------------------------------------------------------------


def _templatefile_keys() -> set[str]:
    """Keys of the map handed to templatefile() in modules/ec2/main.tf."""
    text = (EC2 / "main.tf").read_text(encoding="utf-8")
    start = text.index("templatefile(")
    body = text[start : text.index("})", start)]
    return set(re.findall(r"^\s*(\w+)\s*=", body, re.M))


def render_user_data() -> str:
    """Render the template the way templatefile() does, with dummy values."""
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "%{" not in text.replace("%%{", ""), "template directives are not expected"
    files = {
        "render_env_script": RENDER_ENV,
        "deploy_script": DEPLOY,
        "systemd_unit": UNIT,
    }

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in files:
            return files[name].read_text(encoding="utf-8")
        return f"dummy-{name.replace('_', '-')}"

    rendered = TEMPLATE_VAR.sub(value, text)
    return rendered.replace("$${", "${")


def test_template_variables_match_templatefile_call() -> None:
    used = set(TEMPLATE_VAR.findall(TEMPLATE.read_text(encoding="utf-8")))
    passed = _templatefile_keys()
    assert used, "the template interpolates nothing?"
    assert used == passed, f"only in template: {used - passed}; only passed: {passed - used}"


def test_rendered_user_data_is_clean_bash_under_the_size_limit(tmp_path: Path) -> None:
    rendered = render_user_data()
    assert rendered.startswith("#!/bin/bash\n")
    assert len(rendered.encode()) < USER_DATA_LIMIT, len(rendered.encode())
    for delimiter in ("SCRIPT_RENDER_ENV", "SCRIPT_DEPLOY", "UNIT", "CONF"):
        assert rendered.count(f"\n{delimiter}\n") == 1, f"heredoc {delimiter} not closed once"
    script = tmp_path / "user_data.sh"
    script.write_text(rendered, encoding="utf-8")
    proc = _shellcheck(script)
    assert proc.stdout == "", proc.stdout
    assert proc.returncode == 0, proc.stderr


def test_user_data_installs_docker_and_starts_the_stack() -> None:
    rendered = render_user_data()
    assert "dnf -y install docker" in rendered
    assert "systemctl enable --now docker" in rendered
    assert "sha256sum --check" in rendered, "the compose plugin download must be verified"
    assert "systemctl enable workbench.service" in rendered
    for path in ("/usr/local/sbin/workbench-render-env", "/usr/local/sbin/workbench-deploy"):
        assert f"cat >{path} <<" in rendered
    # Secrets are only ever read at run time ("$(...)"), never written in as literals.
    pattern = r"(?i)(\w*(?:password|secret|api_key|token)\w*)=['\"]?[^'\"$\s(\\]"
    literals = [
        m.group(0) for m in re.finditer(pattern, rendered) if not m.group(1).endswith("_ARN")
    ]
    assert not literals, f"user data must not carry secrets: {literals}"


def test_systemd_unit_runs_prod_compose_without_building() -> None:
    unit = UNIT.read_text(encoding="utf-8")
    assert "ExecStartPre=/usr/local/sbin/workbench-render-env" in unit
    (start,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    assert "-f docker-compose.yml -f docker-compose.prod.yml" in start
    assert "--no-build" in start
    assert "Requires=docker.service" in unit
    assert "WantedBy=multi-user.target" in unit
    # The unit, the config written by user data and the helpers agree on the paths.
    conf = dict(re.findall(r"^(APP_DIR|COMPOSE_DIR)='([^']*)'$", render_user_data(), re.M))
    assert f"WorkingDirectory={conf['COMPOSE_DIR']}" in unit
    assert f"ConditionPathExists={conf['APP_DIR']}/current-image" in unit
    assert '"${APP_DIR}/current-image"' in DEPLOY.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# shellcheck of the scripts themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_reports_nothing(script: Path) -> None:
    proc = _shellcheck(script)
    assert proc.stdout == "", proc.stdout
    assert proc.returncode == 0, proc.stderr


def test_shellcheck_control_flags_a_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    proc = _shellcheck(bad)
    assert proc.returncode != 0
    assert "SC2086" in proc.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_strict_and_executable(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    assert script.stat().st_mode & stat.S_IXUSR, f"{script.name} is not executable"


# ---------------------------------------------------------------------------
# The helpers, run against fakes
# ---------------------------------------------------------------------------

FAKE_AWS = r"""#!/bin/bash
# Fake AWS CLI: secretsmanager get-secret-value and s3 cp against $FAKE_S3.
set -euo pipefail
echo "aws $*" >>"$FAKE_LOG"
if [ "$1 $2" = "secretsmanager get-secret-value" ]; then
  id=""
  while [ "$#" -gt 0 ]; do
    if [ "$1" = "--secret-id" ]; then id="$2"; fi
    shift
  done
  case "$id" in
    *databento*) printf '%s\n' "$FAKE_DATABENTO_KEY" ;;
    *ib-credentials*) printf '%s\n' "$FAKE_IB_JSON" ;;
    *) echo "unknown secret $id" >&2; exit 254 ;;
  esac
elif [ "$1 $2" = "s3 cp" ]; then
  args=()
  for a in "$@"; do case "$a" in --*|s3|cp|us-east-1) ;; *) args+=("$a") ;; esac; done
  src="${args[0]#s3://}"
  cp "$FAKE_S3/$src" "${args[1]}"
else
  echo "unexpected aws call: $*" >&2; exit 99
fi
"""

FAKE_DOCKER = r"""#!/bin/bash
echo "docker $*" >>"$FAKE_LOG"
if [ "$1" = "load" ]; then echo "Loaded image: workbench:$FAKE_RELEASE"; fi
"""

FAKE_SYSTEMCTL = r"""#!/bin/bash
echo "systemctl $*" >>"$FAKE_LOG"
"""


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path | dict[str, str]]:
    """A fake trading host: config file, app dir, fake commands on PATH."""
    app = tmp_path / "opt" / "workbench"
    compose_dir = app / "docker"
    app.mkdir(parents=True)
    conf = tmp_path / "workbench.conf"
    conf.write_text(
        "\n".join(
            [
                f"APP_DIR='{app}'",
                f"COMPOSE_DIR='{compose_dir}'",
                "ENVIRONMENT='dev'",
                "AWS_REGION='us-east-1'",
                "BUCKET='workbench-dev-data-123456789012'",
                "LOG_GROUP='/workbench/dev/containers'",
                "TRADING_MODE='paper'",
                "DATABENTO_SECRET_ARN='arn:aws:secretsmanager:us-east-1:1:secret:workbench-dev/databento-api-key-AbC'",
                "IB_CREDENTIALS_SECRET_ARN='arn:aws:secretsmanager:us-east-1:1:secret:workbench-dev/ib-credentials-XyZ'",
                "",
            ]
        )
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("aws", FAKE_AWS), ("docker", FAKE_DOCKER), ("systemctl", FAKE_SYSTEMCTL)):
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    s3 = tmp_path / "s3"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "WORKBENCH_CONF": str(conf),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_S3": str(s3),
        "FAKE_RELEASE": "v1",
        "FAKE_DATABENTO_KEY": "db-test-key-123",
        "FAKE_IB_JSON": '{"username": "paperuser", "password": "p@ss $HOME w#rd \\\\ x"}',
    }
    return {"app": app, "compose": compose_dir, "conf": conf, "s3": s3, "env": env, "tmp": tmp_path}


def _run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_render_env_writes_split_env_files(host: dict) -> None:
    (host["app"] / "current-image").write_text("workbench:v1\n")
    proc = _run(RENDER_ENV, host["env"])
    assert proc.returncode == 0, proc.stderr

    compose: Path = host["compose"]
    settings = read_env_file(compose / ".env")
    workbench = read_env_file(compose / "workbench.env")
    gateway = read_env_file(compose / "ib-gateway.env")

    # Exactly the keys the committed templates document.
    assert set(settings) == set(read_env_file(DOCKER / ".env.example"))
    assert set(workbench) == set(read_env_file(DOCKER / "workbench.env.example"))
    assert set(gateway) == set(read_env_file(DOCKER / "ib-gateway.env.example"))

    assert settings["WORKBENCH_IMAGE"] == "workbench:v1"
    assert settings["WORKBENCH_IB_PORT"] == "4004"
    assert settings["WORKBENCH_BUCKET"] == "workbench-dev-data-123456789012"
    assert workbench["DATABENTO_API_KEY"] == "db-test-key-123"
    assert re.fullmatch(r"[0-9a-f]{64}", workbench["JUPYTER_TOKEN"])
    assert gateway["TWS_USERID"] == "paperuser"
    # Kept literally (single-quoted: compose does not interpolate $HOME).
    assert gateway["TWS_PASSWORD"] == "p@ss $HOME w#rd \\ x"

    # Least exposure: each secret only where it is used; files readable by root only.
    assert "p@ss" not in (compose / "workbench.env").read_text()
    assert "db-test-key" not in (compose / "ib-gateway.env").read_text()
    for name in (".env", "workbench.env", "ib-gateway.env"):
        assert stat.S_IMODE((compose / name).stat().st_mode) == 0o600, name
    assert not list(compose.glob(".render.*")), "temporary files left behind"


def test_render_env_keeps_the_token_and_follows_trading_mode(host: dict) -> None:
    (host["app"] / "current-image").write_text("workbench:v1\n")
    assert _run(RENDER_ENV, host["env"]).returncode == 0
    token = read_env_file(host["compose"] / "workbench.env")["JUPYTER_TOKEN"]

    conf: Path = host["conf"]
    conf.write_text(conf.read_text().replace("TRADING_MODE='paper'", "TRADING_MODE='live'"))
    proc = _run(RENDER_ENV, host["env"])
    assert proc.returncode == 0, proc.stderr
    assert read_env_file(host["compose"] / "workbench.env")["JUPYTER_TOKEN"] == token
    assert read_env_file(host["compose"] / ".env")["WORKBENCH_IB_PORT"] == "4003"


def test_render_env_refuses_unquotable_values_without_touching_files(host: dict) -> None:
    (host["app"] / "current-image").write_text("workbench:v1\n")
    assert _run(RENDER_ENV, host["env"]).returncode == 0
    before = {p.name: p.read_text() for p in host["compose"].iterdir()}

    env = {**host["env"], "FAKE_IB_JSON": '{"username": "u", "password": "it\'s"}'}
    proc = _run(RENDER_ENV, env)
    assert proc.returncode != 0
    assert "single quote" in proc.stderr
    assert {p.name: p.read_text() for p in host["compose"].iterdir()} == before


def test_render_env_fails_on_malformed_ib_secret(host: dict) -> None:
    (host["app"] / "current-image").write_text("workbench:v1\n")
    env = {**host["env"], "FAKE_IB_JSON": '{"user": "u"}'}
    proc = _run(RENDER_ENV, env)
    assert proc.returncode != 0
    assert not (host["compose"] / "ib-gateway.env").exists()


def _publish_release(s3: Path, version: str) -> None:
    release = s3 / "workbench-dev-data-123456789012" / "releases" / version
    release.mkdir(parents=True)
    with tarfile.open(release / "compose.tar.gz", "w:gz") as tar:
        for name in ("docker-compose.yml", "docker-compose.prod.yml"):
            tar.add(DOCKER / name, arcname=name)
    (release / "workbench-image.tar.gz").write_bytes(b"not really an image")


def test_deploy_loads_release_and_restarts(host: dict) -> None:
    _publish_release(host["s3"], "v1")
    proc = _run(DEPLOY, host["env"], "v1")
    assert proc.returncode == 0, proc.stderr
    app: Path = host["app"]
    assert (app / "current-image").read_text().strip() == "workbench:v1"
    assert (app / "current-release").read_text().strip() == "v1"
    for name in ("docker-compose.yml", "docker-compose.prod.yml"):
        assert (host["compose"] / name).read_text() == (DOCKER / name).read_text()
    calls = (host["tmp"] / "calls.log").read_text()
    assert "docker load --input" in calls
    assert calls.strip().endswith("systemctl restart workbench.service")


@pytest.mark.parametrize("version", ["", "../etc", "v1;reboot", "a" * 65])
def test_deploy_rejects_bad_versions(host: dict, version: str) -> None:
    proc = _run(DEPLOY, host["env"], version)
    assert proc.returncode == 2
    assert not (host["tmp"] / "calls.log").exists(), "nothing may run for a bad version"


def test_deploy_fails_when_release_is_missing(host: dict) -> None:
    host["s3"].mkdir()
    proc = _run(DEPLOY, host["env"], "v9")
    assert proc.returncode != 0
    assert not (host["app"] / "current-image").exists()
    assert "systemctl" not in (host["tmp"] / "calls.log").read_text()


@pytest.mark.parametrize(
    "args", [[], ["v1"], ["bad version", "bucket"], ["v1", "b", "i-1", "extra"]]
)
def test_release_script_validates_arguments(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    for tool in ("docker", "aws"):  # must never be reached
        fake = tmp_path / tool
        fake.write_text("#!/bin/bash\nexit 97\n")
        fake.chmod(0o755)
    proc = subprocess.run(
        ["bash", str(RELEASE), *args], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2, proc.stderr
