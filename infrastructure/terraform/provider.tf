terraform {
  # 1.10 is the first release with S3-native state locking (use_lockfile).
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: bucket, key, region and locking come from
  #   terraform init -backend-config=environments/<env>/backend.hcl \
  #                  -backend-config="bucket=<state bucket>"
  # so that no account-specific name is committed. See the README, "Deploying to AWS".
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  # Refuse to touch any other account when the list is set (recommended for prod).
  allowed_account_ids = length(var.allowed_account_ids) > 0 ? var.allowed_account_ids : null

  default_tags {
    tags = merge(
      {
        Project     = var.project
        Environment = var.environment
        Owner       = var.owner
        ManagedBy   = "terraform"
        Repository  = "workbench/infrastructure/terraform"
      },
      var.additional_tags,
    )
  }
}
