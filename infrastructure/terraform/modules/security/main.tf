# Who and what may talk to the instance, and what the instance may touch.
#
# * Security group: no ingress at all. Egress only on the TCP ports the stack needs.
#   Operators come in through SSM Session Manager (the agent dials out on 443).
# * Instance role: SSM core, writes to one log group, the bucket's own prefixes, the
#   two secrets, and the KMS key only via S3 / Secrets Manager.
# * The two secrets are created empty; values are put with the CLI, never committed.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # All egress the host needs. DNS (Route 53 Resolver) and NTP (169.254.169.123) are
  # link-local/VPC services that security groups do not filter.
  egress_rules = {
    https = {
      from_port   = 443
      to_port     = 443
      description = "HTTPS: SSM, S3, Secrets Manager, CloudWatch Logs, container registries, Databento historical API"
    }
    ibkr = {
      from_port   = 4000
      to_port     = 4001
      description = "IB Gateway to Interactive Brokers login and market servers"
    }
    databento_live = {
      from_port   = 13000
      to_port     = 13000
      description = "Databento live data gateway (raw TCP)"
    }
  }

  rw_object_arns = [for p in var.bucket_read_write_prefixes : "${var.bucket_arn}/${p}/*"]
  ro_object_arns = [for p in var.bucket_read_only_prefixes : "${var.bucket_arn}/${p}/*"]
  # ListBucket is allowed for the prefix itself, "prefix/" and everything below it.
  list_prefixes = flatten([
    for p in concat(var.bucket_read_write_prefixes, var.bucket_read_only_prefixes) : [p, "${p}/", "${p}/*"]
  ])
}

# ---------------------------------------------------------------------------
# Security group
# ---------------------------------------------------------------------------

resource "aws_security_group" "instance" {
  #checkov:skip=CKV2_AWS_5:Attached to the instance in modules/ec2 through var.security_group_ids; checkov's graph does not follow a module output into another module.
  name        = "${var.name_prefix}-instance"
  description = "Trading instance: no ingress (SSM only); egress limited to HTTPS, IBKR and Databento"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${var.name_prefix}-instance"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "instance" {
  for_each = local.egress_rules

  security_group_id = aws_security_group.instance.id
  description       = each.value.description
  ip_protocol       = "tcp"
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Name = "${var.name_prefix}-egress-${each.key}"
  }
}

# ---------------------------------------------------------------------------
# Secrets (containers only; values are set out of band)
# ---------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "databento" {
  #checkov:skip=CKV2_AWS_57:A Databento API key is issued in Databento's portal; no rotation Lambda can mint one. Rotate by hand (README, "Deploying to AWS").
  name                    = "${var.name_prefix}/databento-api-key"
  description             = "Databento API key (plain string). Set with aws secretsmanager put-secret-value."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "ib_credentials" {
  #checkov:skip=CKV2_AWS_57:IBKR passwords are changed in the IBKR client portal (with 2FA); no API exists for automatic rotation. Rotate by hand (README, "Deploying to AWS").
  name                    = "${var.name_prefix}/ib-credentials"
  description             = "IB Gateway login as JSON {\"username\": ..., \"password\": ...}. Set with aws secretsmanager put-secret-value."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# ---------------------------------------------------------------------------
# Instance role
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    sid     = "Ec2AssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "instance" {
  name                 = "${var.name_prefix}-instance"
  description          = "Trading instance: SSM, its log group, its bucket prefixes and its two secrets"
  assume_role_policy   = data.aws_iam_policy_document.assume_ec2.json
  max_session_duration = 3600
}

# Session Manager and Run Command (the AWS-managed minimum for SSM-managed instances).
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid       = "ListOwnPrefixes"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.list_prefixes
    }
  }

  statement {
    sid       = "BucketLocation"
    effect    = "Allow"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  statement {
    sid    = "ReadWriteDataAndResults"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = local.rw_object_arns
  }

  statement {
    sid       = "ReadReleases"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = local.ro_object_arns
  }

  statement {
    sid       = "ReadTradingSecrets"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.databento.arn, aws_secretsmanager_secret.ib_credentials.arn]
  }

  statement {
    sid       = "UseKeyThroughS3AndSecretsManager"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${data.aws_region.current.region}.amazonaws.com",
        "secretsmanager.${data.aws_region.current.region}.amazonaws.com",
      ]
    }
  }

  statement {
    sid    = "WriteContainerLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [var.container_log_group_arn, "${var.container_log_group_arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "instance" {
  name   = "workbench-least-privilege"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.instance.json
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name_prefix}-instance"
  role = aws_iam_role.instance.name
}
