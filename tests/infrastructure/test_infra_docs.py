"""The README's deploy section says what the code does: commands, names, ports and paths it
mentions exist."""

from __future__ import annotations

import re

import pytest

from tests.infrastructure.infra_support import (
    DOCKER,
    ENVIRONMENTS,
    INFRA,
    REPO,
    TF,
    TfModule,
    attr,
)

README = INFRA.parent / "README.md"


@pytest.fixture(scope="module")
def deploy_md() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Deploying to AWS")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_deploy_doc_covers_the_required_topics(deploy_md: str) -> None:
    for needle in (
        "terraform init",
        "-backend-config=environments/dev/backend.hcl",
        "-backend-config=environments/prod/backend.hcl",
        '-backend-config="bucket=',
        "terraform plan -var-file=environments/dev/terraform.tfvars",
        "terraform plan -var-file=environments/prod/terraform.tfvars",
        "terraform apply",
        "aws secretsmanager put-secret-value",
        "aws ssm start-session",
        "--document-name AWS-StartPortForwardingSession",
        "c6in.xlarge",
        "Prerequisites",
    ):
        assert needle in deploy_md, f"the README deploy section does not mention {needle!r}"
    assert re.search(r"\$0\.\d+/h", deploy_md), "an hourly price with its assumption"
    assert "Assumption" in deploy_md


def test_secret_names_in_doc_match_terraform(
    deploy_md: str, child_modules: dict[str, TfModule], root_module: TfModule
) -> None:
    secrets = child_modules["security"].resources("aws_secretsmanager_secret")
    project = attr(root_module.variables["project"], "default")
    assert root_module.local_values["name_prefix"] == "${var.project}-${var.environment}"
    for secret in secrets.values():
        name = attr(secret, "name")
        suffix = name.split("/", 1)[1]
        assert name == "${var.name_prefix}/" + suffix
        assert f"{project}-$ENV/{suffix}" in deploy_md, f"doc lacks the {suffix} secret name"


def test_port_forward_matches_the_published_jupyter_port(
    deploy_md: str, compose_docs: dict, root_module: TfModule
) -> None:
    ports = compose_docs["docker-compose.yml"]["services"]["workbench"]["ports"]
    host_port = ports[0].split(":")[1]
    assert f'"portNumber":["{host_port}"]' in deploy_md
    forward = attr(root_module.outputs["jupyter_port_forward_command"], "value")
    forward = forward.replace('\\"', '"')
    assert "AWS-StartPortForwardingSession" in forward
    assert f'"portNumber":["{host_port}"]' in forward, forward


def test_paths_named_in_the_doc_exist(deploy_md: str) -> None:
    paths = set(re.findall(r"(infrastructure/[\w./-]+\w)", deploy_md))
    paths |= {
        f"infrastructure/terraform/{p}" for p in re.findall(r"(environments/[\w./-]+)", deploy_md)
    }
    assert len(paths) >= 5
    missing = [p for p in sorted(paths) if not (REPO / p).exists() and "*" not in p]
    assert not missing, f"the README deploy section names missing paths: {missing}"


def test_doc_mentions_every_env_template(deploy_md: str) -> None:
    for template in sorted(DOCKER.glob("*.example")):
        name = template.name.removesuffix(".example")
        assert name in deploy_md or name.lstrip(".") in deploy_md, name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_is_documented(deploy_md: str, env: str) -> None:
    assert (TF / "environments" / env / "terraform.tfvars").is_file()
    assert f"environments/{env}/terraform.tfvars" in deploy_md
