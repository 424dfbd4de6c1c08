"""Terraform: every file parses, the modules fit together, and the security invariants hold.

There is no terraform binary (and no provider registry) here, so `terraform validate`
cannot run; these checks cover what it would catch for this code base (undeclared
variables, wrong module inputs, missing outputs) plus the policy the design promises.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.infra_support import (
    ENVIRONMENTS,
    MODULE_META_ARGS,
    MODULE_NAMES,
    TF,
    TfModule,
    attr,
    blocks,
    parse_hcl,
    strip_hcl_comments,
    unwrap_expr,
)

HCL_FILES = sorted(
    p
    for pattern in ("*.tf", "*.tfvars", "*.hcl")
    for p in TF.rglob(pattern)
    if ".terraform" not in p.parts
)


def _rel(path: Path) -> str:
    return str(path.relative_to(TF))


# ---------------------------------------------------------------------------
# Layout and parsing
# ---------------------------------------------------------------------------


def test_layout_has_the_planned_files() -> None:
    expected = [TF / f for f in ("main.tf", "variables.tf", "outputs.tf", "provider.tf")]
    for name in MODULE_NAMES:
        expected += [TF / "modules" / name / f for f in ("main.tf", "variables.tf", "outputs.tf")]
    for env in ENVIRONMENTS:
        expected += [TF / "environments" / env / f for f in ("terraform.tfvars", "backend.hcl")]
    missing = [_rel(p) for p in expected if not p.is_file()]
    assert not missing, f"missing Terraform files: {missing}"


@pytest.mark.parametrize("path", HCL_FILES, ids=_rel)
def test_hcl_file_parses(path: Path) -> None:
    parsed = parse_hcl(path)
    assert parsed, f"{_rel(path)} parsed to nothing"


def test_parser_rejects_broken_hcl() -> None:
    """Control: the parser used above really fails on malformed input."""
    import hcl2
    from lark.exceptions import LarkError

    with pytest.raises(LarkError):
        hcl2.loads('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n')  # unclosed block


@pytest.mark.parametrize("path", [p for p in HCL_FILES if p.suffix == ".tf"], ids=_rel)
def test_tf_file_is_tidy(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "\t" not in text, "tabs (terraform fmt uses two spaces)"
    bad = [i for i, line in enumerate(text.splitlines(), 1) if line != line.rstrip()]
    assert not bad, f"trailing whitespace on lines {bad}"
    assert text.endswith("\n"), "file must end in a newline"
    assert not text.endswith("\n\n"), "file must end in exactly one newline"


# ---------------------------------------------------------------------------
# Provider, backend, versions
# ---------------------------------------------------------------------------


def test_provider_pins_versions_and_tags(root_module: TfModule) -> None:
    provider_tf = root_module.files["provider.tf"]
    (terraform,) = provider_tf["terraform"]
    assert re.search(r">=\s*1\.10", attr(terraform, "required_version")), (
        "S3-native locking (use_lockfile) needs Terraform >= 1.10"
    )
    (required,) = blocks(terraform, "required_providers")
    aws = attr(required, "aws")
    assert aws["source"] == "hashicorp/aws"
    assert re.fullmatch(r"~>\s*\d+\.\d+", aws["version"]), "pin the provider's major version"

    backends = blocks(terraform, "backend")
    assert len(backends) == 1
    assert set(backends[0]) == {"s3"}
    s3 = {k: v for k, v in backends[0]["s3"].items() if not k.startswith("__")}
    assert s3 == {}, "backend settings belong in -backend-config files, not in provider.tf"

    (aws_provider,) = [p["aws"] for p in provider_tf["provider"] if "aws" in p]
    (default_tags,) = blocks(aws_provider, "default_tags")
    tags_expr = str(attr(default_tags, "tags"))
    for tag in ("Project", "Environment", "Owner", "ManagedBy"):
        assert tag in tags_expr, f"default_tags lacks {tag}"
    assert unwrap_expr(attr(aws_provider, "region")) == "var.aws_region"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backend_config_per_environment(env: str) -> None:
    cfg = parse_hcl(TF / "environments" / env / "backend.hcl")
    values = {k: attr(cfg, k) for k in cfg}
    assert env in values["key"]
    assert values["key"].endswith(".tfstate")
    assert values["encrypt"] is True
    assert values["use_lockfile"] is True
    assert "bucket" not in values, "the state bucket is account-specific: pass it on the CLI"


def test_state_and_plans_are_git_ignored() -> None:
    from tests.infrastructure.infra_support import git_ignored

    for name in ("terraform.tfstate", "dev.tfplan", ".terraform/providers/x"):
        assert git_ignored(TF / name), f"{name} would be committable"


# ---------------------------------------------------------------------------
# Variables, locals, module wiring, outputs
# ---------------------------------------------------------------------------


def test_every_variable_is_typed_and_described(all_modules: dict[str, TfModule]) -> None:
    problems = []
    for mod_name, module in all_modules.items():
        assert module.variables, f"{mod_name} declares no variables"
        for var_name, spec in module.variables.items():
            if not attr(spec, "type"):
                problems.append(f"{mod_name}: var.{var_name} has no type")
            description = attr(spec, "description") or ""
            if len(description) < 10:
                problems.append(f"{mod_name}: var.{var_name} has no real description")
    assert not problems, "\n".join(problems)


def test_variables_live_in_variables_tf(all_modules: dict[str, TfModule]) -> None:
    for mod_name, module in all_modules.items():
        for fname, parsed in module.files.items():
            if fname != "variables.tf":
                assert "variable" not in parsed, f"{mod_name}/{fname} declares variables"


def test_every_output_is_described(all_modules: dict[str, TfModule]) -> None:
    for mod_name, module in all_modules.items():
        assert module.outputs, f"{mod_name} has no outputs"
        for out_name, spec in module.outputs.items():
            assert len(attr(spec, "description") or "") >= 10, f"{mod_name}: output {out_name}"


VAR_REF = re.compile(r"(?<![\w.])var\.([A-Za-z_][\w-]*)")
LOCAL_REF = re.compile(r"(?<![\w.])local\.([A-Za-z_][\w-]*)")
MODULE_REF = re.compile(r"(?<![\w.])module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)")


def test_var_references_are_declared(all_modules: dict[str, TfModule]) -> None:
    problems = []
    for mod_name, module in all_modules.items():
        declared = set(module.variables)
        used = set(VAR_REF.findall(module.code()))
        problems += [f"{mod_name}: var.{v} used but not declared" for v in used - declared]
        problems += [f"{mod_name}: var.{v} declared but never used" for v in declared - used]
    assert not problems, "\n".join(sorted(problems))


def test_local_references_are_declared(all_modules: dict[str, TfModule]) -> None:
    problems = []
    for mod_name, module in all_modules.items():
        used = set(LOCAL_REF.findall(module.code()))
        problems += [f"{mod_name}: local.{v} is not defined" for v in used - module.locals]
    assert not problems, "\n".join(problems)


def test_module_inputs_match_declared_variables(
    root_module: TfModule, child_modules: dict[str, TfModule]
) -> None:
    calls = root_module.module_calls
    assert set(calls) == set(MODULE_NAMES), "root main.tf must call every module once"
    problems = []
    for call_name, call in calls.items():
        source = attr(call, "source")
        assert source == f"./modules/{call_name}", f"module {call_name}: source {source}"
        target = child_modules[call_name]
        passed = {k for k in call if not k.startswith("__")} - MODULE_META_ARGS
        declared = set(target.variables)
        required = {n for n, spec in target.variables.items() if "default" not in spec}
        problems += [f"module.{call_name}: input {k} is not a variable" for k in passed - declared]
        problems += [f"module.{call_name}: required {k} not passed" for k in required - passed]
    assert not problems, "\n".join(sorted(problems))


def test_module_output_references_exist(
    all_modules: dict[str, TfModule], child_modules: dict[str, TfModule]
) -> None:
    problems = []
    refs = 0
    for mod_name, module in all_modules.items():
        for called, output in MODULE_REF.findall(module.code()):
            refs += 1
            if called not in child_modules or called not in module.module_calls:
                problems.append(f"{mod_name}: module.{called} is not called here")
            elif output not in child_modules[called].outputs:
                problems.append(f"{mod_name}: module.{called}.{output} is not an output")
    assert refs >= 10, "expected the root module to wire modules through their outputs"
    assert not problems, "\n".join(problems)


def test_root_outputs_cover_the_essentials(root_module: TfModule) -> None:
    for name in ("instance_id", "instance_private_ip", "bucket_name"):
        assert name in root_module.outputs, f"root output {name} missing"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_tfvars_set_declared_variables(
    env: str, root_module: TfModule, tfvars: dict[str, dict[str, Any]]
) -> None:
    values = {k: attr(tfvars[env], k) for k in tfvars[env] if not k.startswith("__")}
    declared = root_module.variables
    unknown = set(values) - set(declared)
    assert not unknown, f"{env}/terraform.tfvars sets undeclared variables {unknown}"
    required = {n for n, spec in declared.items() if "default" not in spec}
    assert required <= set(values), f"{env} misses required {required - set(values)}"
    assert values["environment"] == env


def test_prod_is_protected(tfvars: dict[str, dict[str, Any]]) -> None:
    prod = {k: attr(tfvars["prod"], k) for k in tfvars["prod"]}
    assert prod["termination_protection"] is True
    assert prod["bucket_force_destroy"] is False
    assert prod["secret_recovery_window_days"] >= 7


# ---------------------------------------------------------------------------
# What the design promises
# ---------------------------------------------------------------------------


def test_local_zone_opt_in_and_subnet(
    root_module: TfModule, child_modules: dict[str, TfModule], tfvars: dict[str, dict[str, Any]]
) -> None:
    net = child_modules["networking"]
    (group,) = net.resources("aws_ec2_availability_zone_group").values()
    assert unwrap_expr(attr(group, "group_name")) == "var.local_zone_group"
    assert attr(group, "opt_in_status") == "opted-in"
    lz_subnets = [
        s
        for s in net.resources("aws_subnet").values()
        if unwrap_expr(attr(s, "availability_zone")) == "var.local_zone"
    ]
    assert len(lz_subnets) == 2, "a public and a private subnet in the Local Zone"
    assert attr(root_module.variables["local_zone_group"], "default") == "us-east-1-chi-2"
    assert attr(root_module.variables["local_zone"], "default") == "us-east-1-chi-2a"
    for env in ENVIRONMENTS:
        assert attr(tfvars[env], "local_zone") == "us-east-1-chi-2a"
    ec2_call = root_module.module_calls["ec2"]
    assert (
        unwrap_expr(attr(ec2_call, "subnet_id")) == "module.networking.local_zone_private_subnet_id"
    )


def test_no_subnet_hands_out_public_ips(child_modules: dict[str, TfModule]) -> None:
    subnets = child_modules["networking"].resources("aws_subnet")
    assert len(subnets) == 4
    for name, subnet in subnets.items():
        assert attr(subnet, "map_public_ip_on_launch") is False, name


def test_network_has_igw_nat_routes_and_flow_logs(child_modules: dict[str, TfModule]) -> None:
    types = child_modules["networking"].resource_types()
    for needed in (
        "aws_vpc",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_route_table",
        "aws_route",
        "aws_route_table_association",
        "aws_flow_log",
        "aws_default_security_group",
    ):
        assert needed in types, f"networking lacks {needed}"
    (default_sg,) = child_modules["networking"].resources("aws_default_security_group").values()
    assert "ingress" not in default_sg, "default SG must be empty"
    assert "egress" not in default_sg, "default SG must be empty"


def test_no_ingress_anywhere(all_modules: dict[str, TfModule]) -> None:
    for mod_name, module in all_modules.items():
        types = module.resource_types()
        assert "aws_vpc_security_group_ingress_rule" not in types, mod_name
        for rule in module.resources("aws_security_group_rule").values():
            assert attr(rule, "type") != "ingress", mod_name
        for sg_name, sg in module.resources("aws_security_group").items():
            assert "ingress" not in sg, f"{mod_name}: {sg_name} has an ingress block"


def test_egress_is_port_scoped(child_modules: dict[str, TfModule]) -> None:
    sec = child_modules["security"]
    rules = sec.resources("aws_vpc_security_group_egress_rule")
    assert set(rules) == {"instance"}, "all egress goes through the one for_each resource"
    rule = rules["instance"]
    assert unwrap_expr(attr(rule, "for_each")) == "local.egress_rules"
    assert attr(rule, "ip_protocol") == "tcp", "no all-protocol egress"
    egress = sec.local_values["egress_rules"]
    ports = {p for spec in egress.values() for p in range(spec["from_port"], spec["to_port"] + 1)}
    assert ports == {443, 4000, 4001, 13000}, ports
    for name, spec in egress.items():
        assert len(spec["description"]) > 10, name


def test_instance_hardening(root_module: TfModule, child_modules: dict[str, TfModule]) -> None:
    ec2 = child_modules["ec2"]
    (instance,) = ec2.resources("aws_instance").values()
    (meta,) = blocks(instance, "metadata_options")
    assert attr(meta, "http_tokens") == "required", "IMDSv2 only"
    assert attr(meta, "http_endpoint") == "enabled"
    (root_disk,) = blocks(instance, "root_block_device")
    assert attr(root_disk, "encrypted") is True
    assert unwrap_expr(attr(root_disk, "kms_key_id")) == "var.kms_key_arn"
    assert attr(instance, "associate_public_ip_address") is False
    assert "key_name" not in instance, "no SSH key pair: access is through SSM"
    assert unwrap_expr(attr(instance, "ami")) == "data.aws_ami.al2023.id"
    assert unwrap_expr(attr(instance, "iam_instance_profile")) == "var.instance_profile_name"

    (ami,) = ec2.data_sources("aws_ami").values()
    assert attr(ami, "owners") == ["amazon"]
    assert attr(ami, "most_recent") is True
    filters = {attr(f, "name"): attr(f, "values") for f in blocks(ami, "filter")}
    assert filters["name"][0].startswith("al2023-ami-2023.")
    assert filters["architecture"] == ["x86_64"]

    assert attr(root_module.variables["instance_type"], "default") == "c6in.xlarge"


def test_instance_type_in_environments(tfvars: dict[str, dict[str, Any]]) -> None:
    for env in ENVIRONMENTS:
        assert attr(tfvars[env], "instance_type") == "c6in.xlarge"


def test_bucket_is_private_versioned_encrypted(child_modules: dict[str, TfModule]) -> None:
    st = child_modules["storage"]
    (pab,) = st.resources("aws_s3_bucket_public_access_block").values()
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert attr(pab, flag) is True, flag
    (versioning,) = st.resources("aws_s3_bucket_versioning").values()
    (vcfg,) = blocks(versioning, "versioning_configuration")
    assert attr(vcfg, "status") == "Enabled"
    (sse,) = st.resources("aws_s3_bucket_server_side_encryption_configuration").values()
    (rule,) = blocks(sse, "rule")
    (default,) = blocks(rule, "apply_server_side_encryption_by_default")
    assert attr(default, "sse_algorithm") == "aws:kms"
    assert unwrap_expr(attr(default, "kms_master_key_id")) == "var.kms_key_arn"
    (ownership,) = st.resources("aws_s3_bucket_ownership_controls").values()
    assert attr(blocks(ownership, "rule")[0], "object_ownership") == "BucketOwnerEnforced"
    assert "aws:SecureTransport" in st.code(), "bucket policy must deny plain HTTP"


def test_kms_key_rotates(root_module: TfModule) -> None:
    (key,) = root_module.resources("aws_kms_key").values()
    assert attr(key, "enable_key_rotation") is True


def _statements(module: TfModule, doc: str) -> dict[str, dict[str, Any]]:
    policy = module.data_sources("aws_iam_policy_document")[doc]
    return {attr(s, "sid"): s for s in blocks(policy, "statement")}


def test_instance_role_is_least_privilege(child_modules: dict[str, TfModule]) -> None:
    sec = child_modules["security"]
    statements = _statements(sec, "instance")
    assert statements, "instance policy has no statements"
    for sid, stmt in statements.items():
        assert attr(stmt, "effect", "Allow") == "Allow", sid
        resources = sec.resolve_list(attr(stmt, "resources"))
        assert resources, f"{sid}: no resources"
        assert "*" not in resources, f"{sid}: resources must be scoped"
        for action in attr(stmt, "actions"):
            assert not action.endswith("*"), f"{sid}: wildcard action {action}"

    secret_statements = [
        s
        for s in statements.values()
        if any(a.startswith("secretsmanager:") for a in attr(s, "actions"))
    ]
    assert len(secret_statements) == 1
    (secrets,) = secret_statements
    assert attr(secrets, "actions") == ["secretsmanager:GetSecretValue"]
    assert sorted(unwrap_expr(r) for r in attr(secrets, "resources")) == [
        "aws_secretsmanager_secret.databento.arn",
        "aws_secretsmanager_secret.ib_credentials.arn",
    ]

    s3_resources = [
        r
        for s in statements.values()
        if any(a.startswith("s3:") for a in attr(s, "actions"))
        for r in sec.resolve_list(attr(s, "resources"))
    ]
    assert len(s3_resources) >= 4, s3_resources
    assert all("var.bucket_arn" in str(r) for r in s3_resources), s3_resources

    kms = [s for s in statements.values() if any(a.startswith("kms:") for a in attr(s, "actions"))]
    assert len(kms) == 1
    (kms_condition,) = blocks(kms[0], "condition")
    assert attr(kms_condition, "variable") == "kms:ViaService", "KMS only via S3/Secrets Manager"

    logs = [
        s for s in statements.values() if any(a.startswith("logs:") for a in attr(s, "actions"))
    ]
    assert logs
    assert all(
        "var.container_log_group_arn" in r
        for s in logs
        for r in sec.resolve_list(attr(s, "resources"))
    )

    attachments = sec.resources("aws_iam_role_policy_attachment")
    arns = [attr(a, "policy_arn") for a in attachments.values()]
    assert len(arns) == 1, arns
    assert arns[0].endswith(":policy/AmazonSSMManagedInstanceCore"), arns


def test_two_secrets_encrypted_with_the_stack_key(child_modules: dict[str, TfModule]) -> None:
    secrets = child_modules["security"].resources("aws_secretsmanager_secret")
    assert set(secrets) == {"databento", "ib_credentials"}
    for name, secret in secrets.items():
        assert unwrap_expr(attr(secret, "kms_key_id")) == "var.kms_key_arn", name
    no_values = child_modules["security"].resource_types()
    assert "aws_secretsmanager_secret_version" not in no_values, (
        "secret values must never live in Terraform (state or code)"
    )


def test_log_groups_are_encrypted_and_retained(all_modules: dict[str, TfModule]) -> None:
    groups = [
        g for m in all_modules.values() for g in m.resources("aws_cloudwatch_log_group").values()
    ]
    assert len(groups) == 2
    for group in groups:
        assert unwrap_expr(attr(group, "kms_key_id")) in ("var.kms_key_arn", "aws_kms_key.main.arn")
        assert attr(group, "retention_in_days")


def test_no_comment_hides_configuration() -> None:
    """A sanity check of the comment stripper the reference checks rely on."""
    text = 'a = "x # not a comment" # comment\n/* block\n var.hidden */ b = var.shown // c'
    stripped = strip_hcl_comments(text)
    assert "x # not a comment" in stripped
    assert "var.hidden" not in stripped
    assert "var.shown" in stripped
