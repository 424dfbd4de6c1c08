"""Dockerfiles (hadolint + structure), compose files (Compose Specification schema +
exposure rules), env-file templates and .dockerignore.

No Docker engine runs here, so images are not built; what a build would trip over
(missing COPY sources, sources excluded by .dockerignore, unpinned bases) is checked
statically instead.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.infrastructure.infra_support import (
    COMPOSE_FILES,
    DOCKER,
    DOCKERFILES,
    REPO,
    git_ignored,
    read_env_file,
    venv_tool,
)

# ---------------------------------------------------------------------------
# A small Dockerfile reader (instructions with continuations joined, split by stage)
# ---------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        keyword, _, rest = buf.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
        buf = ""
    assert not buf, f"{path.name}: dangling line continuation"
    return out


def stages(path: Path) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for keyword, args in instructions(path):
        if keyword == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            assert m, f"unparsed FROM {args}"
            result.append({"image": m.group(1), "name": m.group(2), "body": []})
        else:
            assert result, f"{path.name}: {keyword} before FROM"
            result[-1]["body"].append((keyword, args))
    return result


def _body_text(stage: dict[str, Any], keyword: str | None = None) -> str:
    return "\n".join(a for k, a in stage["body"] if keyword is None or k == keyword)


# ---------------------------------------------------------------------------
# hadolint
# ---------------------------------------------------------------------------


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(venv_tool("hadolint")),
            "--no-color",
            "--failure-threshold",
            "style",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_reports_nothing(dockerfile: Path) -> None:
    proc = _hadolint(dockerfile)
    assert proc.stdout.strip() == "", proc.stdout
    assert proc.returncode == 0, proc.stderr


def test_hadolint_control_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    """Control: the installed hadolint really lints (an unpinned, root image is flagged)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\n")
    proc = _hadolint(bad)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout, proc.stdout  # :latest base
    assert "DL3008" in proc.stdout, proc.stdout  # unpinned apt package


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_ignores_are_explained(dockerfile: Path) -> None:
    lines = dockerfile.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        if "hadolint ignore=" in line:
            above = lines[n - 1].strip() if n else ""
            where = f"{dockerfile.name}:{n + 1}"
            assert above.startswith("#"), f"{where}: explain the ignore in a comment line above"
            assert "hadolint" not in above, f"{where}: one ignore, one explanation"
            assert len(above) > 20, f"{where}: the explanation is too short"


# ---------------------------------------------------------------------------
# Dockerfile structure
# ---------------------------------------------------------------------------


def test_production_dockerfile_is_multistage_builder_then_slim_runtime() -> None:
    st = stages(DOCKER / "Dockerfile")
    by_name = {s["name"]: s for s in st}
    assert {"builder", "runtime"} <= set(by_name), "stages 'builder' and 'runtime' expected"
    runtime, builder = by_name["runtime"], by_name["builder"]
    assert st[-1] is runtime, "the runtime stage must be the final (default) target"
    assert re.fullmatch(r"python:3\.11-slim(-[a-z]+)?", runtime["image"]), runtime["image"]
    assert builder["image"] == runtime["image"], "same base, so the venv's interpreter matches"

    builder_run = _body_text(builder, "RUN")
    assert "maturin build" in builder_run
    assert "--locked" in builder_run
    assert "native/Cargo.toml" in builder_run
    assert "--constraint requirements.lock" in builder_run, "deps pinned by the lock"
    builder_copy = _body_text(builder, "COPY")
    assert "--from=rust /usr/local/cargo" in builder_copy, "Rust toolchain in the builder"

    runtime_text = _body_text(runtime)
    for compiler in ("gcc", "cargo", "rustc", "rustup", "build-essential", "apt-get install"):
        assert compiler not in runtime_text, f"runtime stage must not carry {compiler}"
    assert "--from=builder /opt/venv" in _body_text(runtime, "COPY")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_final_stage_runs_as_non_root_with_healthcheck(dockerfile: Path) -> None:
    final = stages(dockerfile)[-1]
    users = [a for k, a in final["body"] if k == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]
    keywords = [k for k, _ in final["body"]]
    assert "HEALTHCHECK" in keywords
    assert "CMD" in keywords
    health = _body_text(final, "HEALTHCHECK")
    assert "/api" in health
    assert "8888" in health


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_base_images_are_pinned(dockerfile: Path) -> None:
    names = set()
    for stage in stages(dockerfile):
        image = stage["image"]
        if image in names:
            continue  # FROM <earlier stage>
        names.add(stage["name"])
        repo, _, tag = image.rpartition(":")
        assert repo, f"unpinned base {image}"
        assert tag not in ("", "latest", "slim"), f"unpinned base {image}"
        assert re.match(r"\d", tag), f"base tag should start with a version: {image}"


def test_dev_dockerfile_mounts_source_and_autoreloads() -> None:
    text = (DOCKER / "Dockerfile.dev").read_text(encoding="utf-8")
    assert "%autoreload 2" in text
    assert "'autoreload'" in text
    assert "--editable /workspace" in text
    assert "jupyter lab" in text
    compose = (DOCKER / "docker-compose.yml").read_text(encoding="utf-8")
    assert "Dockerfile.dev" in compose


def _dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            patterns.append((negate, line.lstrip("!").rstrip("/")))
    return patterns


def dockerignored(rel: str) -> bool:
    """Docker's rule: the last matching pattern wins; a directory match covers its content."""
    ignored = False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for negate, pattern in _dockerignore_patterns():
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
        for candidate in candidates:
            if any(fnmatch.fnmatchcase(p, candidate) for p in prefixes) or (
                candidate.startswith("**/") is False
                and "/" not in candidate
                and pattern.startswith("**/")
                and any(fnmatch.fnmatchcase(part, candidate) for part in parts)
            ):
                ignored = not negate
                break
    return ignored


def test_dockerignore_keeps_secrets_and_junk_out() -> None:
    for rel in (
        ".git",
        ".venv",
        "native/target",
        "infrastructure/docker/.env",
        "infrastructure/docker/workbench.env",
        "infrastructure/docker/ib-gateway.env",
        "data",
    ):
        assert dockerignored(rel), f"{rel} would be sent to the Docker daemon"
    assert not dockerignored("infrastructure/docker/.env.example")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_copy_sources_exist_in_the_build_context(dockerfile: Path) -> None:
    """Context is the repo root; every COPY source must exist and survive .dockerignore."""
    for keyword, args in instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        tokens = [t for t in args.split() if not t.startswith("--")]
        if "--from=" in args:
            continue
        assert keyword == "COPY", "use COPY, not ADD"
        for src in tokens[:-1]:
            path = REPO / src
            assert path.exists(), f"{dockerfile.name}: COPY source {src} missing from the repo"
            rel = src.rstrip("/")
            assert not dockerignored(rel), f"{dockerfile.name}: {src} is excluded by .dockerignore"


# ---------------------------------------------------------------------------
# Compose: schema
# ---------------------------------------------------------------------------


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_matches_the_compose_specification(
    compose_file: Path, compose_docs: dict[str, Any], compose_schema: dict[str, Any]
) -> None:
    errors = sorted(
        _validator(compose_schema).iter_errors(compose_docs[compose_file.name]),
        key=lambda e: list(e.path),
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_compose_schema_control_rejects_invalid_documents(
    compose_schema: dict[str, Any],
) -> None:
    validator = _validator(compose_schema)
    assert not validator.is_valid({"services": {"a": {"image": "x", "portz": ["1:1"]}}})
    assert not validator.is_valid({"services": {"a": {"image": "x", "restart": 5}}})
    assert validator.is_valid({"services": {"a": {"image": "x"}}})


# ---------------------------------------------------------------------------
# Compose: exposure and secrets
# ---------------------------------------------------------------------------

GATEWAY_PORTS = {"4001", "4002", "4003", "4004", "5900"}


def _services(compose_docs: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (fname, name, svc)
        for fname, doc in compose_docs.items()
        for name, svc in doc.get("services", {}).items()
    ]


def test_gateway_image_pinned_and_unpublished(compose_docs: dict[str, Any]) -> None:
    gateway = compose_docs["docker-compose.yml"]["services"]["ib-gateway"]
    image = gateway["image"]
    assert re.fullmatch(r"ghcr\.io/gnzsnz/ib-gateway:\d+\.\d+\.\w+", image), image
    for fname, name, svc in _services(compose_docs):
        if name == "ib-gateway":
            assert "ports" not in svc, f"{fname}: ib-gateway must not publish ports"
            assert svc.get("network_mode") != "host", fname
            assert "image" not in svc or svc["image"] == image, "prod must not repin the gateway"
    assert {str(p) for p in gateway.get("expose", [])} <= {"4003", "4004"}


def _published(entry: Any) -> tuple[str | None, str, str]:
    """(host ip, host port, container port) of a ports entry in short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("host_ip"), str(entry.get("published", "")), str(entry["target"])
    parts = str(entry).split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return None, "", parts[0]


def test_published_ports_bind_loopback_only(compose_docs: dict[str, Any]) -> None:
    seen = 0
    for fname, name, svc in _services(compose_docs):
        for entry in svc.get("ports", []):
            seen += 1
            host_ip, host_port, target = _published(entry)
            assert host_ip == "127.0.0.1", f"{fname}:{name} publishes {entry} beyond loopback"
            assert target.split("/")[0] not in GATEWAY_PORTS, f"{fname}:{name} exposes {entry}"
            assert host_port not in GATEWAY_PORTS, f"{fname}:{name} exposes {entry}"
    assert seen >= 1, "JupyterLab should be published on loopback"
    ports = compose_docs["docker-compose.yml"]["services"]["workbench"]["ports"]
    assert "127.0.0.1:8888:8888" in ports


def test_services_are_hardened(compose_docs: dict[str, Any]) -> None:
    base = compose_docs["docker-compose.yml"]["services"]
    for name, svc in base.items():
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
        assert svc.get("cap_drop") == ["ALL"], name
        assert not svc.get("privileged"), name


def test_build_context_is_repo_root(compose_docs: dict[str, Any]) -> None:
    base = compose_docs["docker-compose.yml"]["services"]
    builds = [svc["build"] for svc in base.values() if "build" in svc]
    assert len(builds) == 2
    for build in builds:
        assert build["context"] == "../.."
        context = (DOCKER / build["context"]).resolve()
        assert context == REPO
        assert (context / build["dockerfile"]).is_file(), build["dockerfile"]
    assert base["workbench"]["build"]["target"] == "runtime"


def _env_files(svc: dict[str, Any]) -> list[str]:
    entries = svc.get("env_file", [])
    entries = [entries] if isinstance(entries, str) else entries
    return [e["path"] if isinstance(e, dict) else e for e in entries]


def test_secrets_come_from_uncommitted_env_files(compose_docs: dict[str, Any]) -> None:
    base = compose_docs["docker-compose.yml"]["services"]
    files = {name: _env_files(svc) for name, svc in base.items()}
    assert files["workbench"] == ["workbench.env"]
    assert files["ib-gateway"] == ["ib-gateway.env"]
    for env_file in {f for fs in files.values() for f in fs} | {".env"}:
        path = DOCKER / env_file
        example = DOCKER / (env_file + ".example")
        assert example.is_file(), f"{example.name} (committed template) missing"
        assert git_ignored(path), f"{env_file} is not git-ignored"
        assert not git_ignored(example), f"{example.name} must be committed"
    # Per-service split: the notebook container never gets the IB login.
    wb_keys = set(read_env_file(DOCKER / "workbench.env.example"))
    gw_keys = set(read_env_file(DOCKER / "ib-gateway.env.example"))
    assert {"TWS_USERID", "TWS_PASSWORD"} <= gw_keys
    assert not ({"TWS_PASSWORD"} & wb_keys)
    assert "DATABENTO_API_KEY" in wb_keys
    assert "DATABENTO_API_KEY" not in gw_keys
    # No secret is written inline in a compose file.
    for fname, name, svc in _services(compose_docs):
        env = svc.get("environment", {})
        env = dict(e.split("=", 1) for e in env) if isinstance(env, list) else env
        for key, value in env.items():
            if re.search(r"PASSWORD|TOKEN|SECRET|API_KEY", key):
                pytest.fail(f"{fname}:{name} sets {key} inline ({value!r}); use its env file")


SECRET_KEY = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY|USERID")


@pytest.mark.parametrize(
    "example", [*sorted(DOCKER.glob("*.env.example")), DOCKER / ".env.example"]
)
def test_env_examples_hold_placeholders_only(example: Path) -> None:
    values = read_env_file(example)
    assert values, f"{example.name} is empty"
    for key, value in values.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", key), key
        if SECRET_KEY.search(key):
            assert value == "", f"{example.name}: {key} must be left empty in the template"


def test_interpolated_variables_are_documented(compose_docs: dict[str, Any]) -> None:
    documented = set(read_env_file(DOCKER / ".env.example"))
    used = set()
    for path in COMPOSE_FILES:
        text = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        )
        used |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used, "expected ${...} settings in the compose files"
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_prod_override_uses_released_image_and_cloudwatch(compose_docs: dict[str, Any]) -> None:
    prod = compose_docs["docker-compose.prod.yml"]["services"]
    assert set(prod) <= set(compose_docs["docker-compose.yml"]["services"])
    workbench = prod["workbench"]
    assert workbench["pull_policy"] == "never"
    assert workbench["image"].startswith("${WORKBENCH_IMAGE:?")
    assert workbench["environment"]["WORKBENCH_DATA_DIR"].startswith("s3://")
    for name, svc in prod.items():
        assert svc["logging"]["driver"] == "awslogs", name
        assert svc["logging"]["options"]["awslogs-create-group"] == "false", name
        assert svc["restart"] in ("always", "unless-stopped"), name
        assert svc["deploy"]["resources"]["limits"]["memory"], name


def test_dry_run_gateway_stands_in_for_the_real_one(compose_docs: dict[str, Any]) -> None:
    """The simulated IB Gateway answers as ib-gateway:4004 (the paper relay) on the compose
    network, only under its profile, with nothing published and the data read-only."""
    services = compose_docs["docker-compose.yml"]["services"]
    sim = services["ib-gateway-sim"]
    assert sim["profiles"] == ["dryrun"]
    assert "ports" not in sim
    assert sim["command"][:2] == ["workbench", "ib-gateway-sim"]
    port = sim["command"][sim["command"].index("--port") + 1]
    assert port == "4004"  # the paper relay the workbench service is pointed at by default
    assert services["workbench"]["environment"]["WORKBENCH_IB_PORT"] == "${WORKBENCH_IB_PORT:-4004}"
    assert "ib-gateway" in sim["networks"]["workbench"]["aliases"]
    assert all(v.endswith(":ro") for v in sim["volumes"])
