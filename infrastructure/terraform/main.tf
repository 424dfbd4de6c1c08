# Root module: one trading host in the Chicago Local Zone, its network, its data bucket,
# and the key that encrypts everything at rest. Modules hold the parts; this file holds
# the cross-cutting pieces (KMS key, container log group) and wires the modules together.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition

  # Every log group of this stack lives under this path; the KMS key policy lets
  # CloudWatch Logs use the key for exactly these groups.
  log_group_path       = "/${var.project}/${var.environment}"
  log_group_arn_prefix = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:${local.log_group_path}"
}

# ---------------------------------------------------------------------------
# Customer-managed KMS key: S3 objects, Secrets Manager secrets, EBS root volume,
# CloudWatch log groups.
# ---------------------------------------------------------------------------

resource "aws_kms_key" "main" {
  description             = "${local.name_prefix}: S3 data, secrets, EBS and logs"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.kms_deletion_window_days

  # Key policies are written inline: in a key policy, Resource "*" means "this key".
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Key administration stays with the account's IAM policies (AWS's default key policy).
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs may use the key for this stack's log groups and nothing else.
        Sid       = "CloudWatchLogsForStackLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.aws_region}.amazonaws.com" }
        Action = [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
        ]
        Resource = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "${local.log_group_arn_prefix}/*"
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}

# Container logs (Docker's awslogs driver on the instance writes here).
resource "aws_cloudwatch_log_group" "containers" {
  name              = "${local.log_group_path}/containers"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# ---------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------

module "networking" {
  source = "./modules/networking"

  name_prefix             = local.name_prefix
  vpc_cidr                = var.vpc_cidr
  availability_zone       = var.availability_zone
  local_zone_group        = var.local_zone_group
  local_zone              = var.local_zone
  nat_gateway_placement   = var.nat_gateway_placement
  flow_log_group_name     = "${local.log_group_path}/vpc-flow-logs"
  flow_log_retention_days = var.log_retention_days
  kms_key_arn             = aws_kms_key.main.arn
}

module "storage" {
  source = "./modules/storage"

  bucket_name                        = "${local.name_prefix}-data-${local.account_id}"
  kms_key_arn                        = aws_kms_key.main.arn
  force_destroy                      = var.bucket_force_destroy
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
}

module "security" {
  source = "./modules/security"

  name_prefix                 = local.name_prefix
  vpc_id                      = module.networking.vpc_id
  bucket_arn                  = module.storage.bucket_arn
  kms_key_arn                 = aws_kms_key.main.arn
  container_log_group_arn     = aws_cloudwatch_log_group.containers.arn
  secret_recovery_window_days = var.secret_recovery_window_days
}

module "ec2" {
  source = "./modules/ec2"

  name_prefix               = local.name_prefix
  environment               = var.environment
  aws_region                = var.aws_region
  instance_type             = var.instance_type
  subnet_id                 = module.networking.local_zone_private_subnet_id
  security_group_ids        = [module.security.instance_security_group_id]
  instance_profile_name     = module.security.instance_profile_name
  kms_key_arn               = aws_kms_key.main.arn
  root_volume_size_gb       = var.root_volume_size_gb
  root_volume_type          = var.root_volume_type
  termination_protection    = var.termination_protection
  bucket_name               = module.storage.bucket_name
  databento_secret_arn      = module.security.databento_secret_arn
  ib_credentials_secret_arn = module.security.ib_credentials_secret_arn
  container_log_group_name  = aws_cloudwatch_log_group.containers.name
  trading_mode              = var.trading_mode
  release_version           = var.release_version
  docker_compose_version    = var.docker_compose_version
}
