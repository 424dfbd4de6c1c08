# ---------------------------------------------------------------------------
# Identity and tagging
# ---------------------------------------------------------------------------

variable "project" {
  type        = string
  description = "Project name; prefixes every resource name and the CloudWatch log group paths."
  default     = "workbench"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Deployment environment; selects naming and the protections that differ between dev and prod."

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be \"dev\" or \"prod\"."
  }
}

variable "owner" {
  type        = string
  description = "Team or person responsible for the stack; written to the Owner tag on every resource."
}

variable "additional_tags" {
  type        = map(string)
  description = "Extra tags merged into the provider's default_tags (for example a cost-centre tag)."
  default     = {}
}

variable "aws_region" {
  type        = string
  description = "Parent AWS Region of the Local Zone. Chicago Local Zones hang off us-east-1."
  default     = "us-east-1"
}

variable "allowed_account_ids" {
  type        = list(string)
  description = "If non-empty, the AWS provider refuses to run against any other account ID."
  default     = []

  validation {
    condition     = alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each allowed account ID must be a 12-digit AWS account number."
  }
}

# ---------------------------------------------------------------------------
# Networking
# ---------------------------------------------------------------------------

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC; /16 to /20. Subnets are carved out of it with cidrsubnet(..., 4, n)."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR between /16 and /20."
  }
}

variable "availability_zone" {
  type        = string
  description = "Availability Zone in the parent Region for the Region-side public and private subnets (NAT gateway home)."
  default     = "us-east-1a"
}

variable "local_zone_group" {
  type        = string
  description = "Local Zone group to opt in to (aws_ec2_availability_zone_group). Chicago: us-east-1-chi-2."
  default     = "us-east-1-chi-2"
}

variable "local_zone" {
  type        = string
  description = "Local Zone name for the trading subnet; must belong to local_zone_group."
  default     = "us-east-1-chi-2a"
}

variable "nat_gateway_placement" {
  type        = string
  description = "Where the NAT gateway for the private subnets lives: \"region\" (works everywhere) or \"local-zone\" (lower latency egress, only in Local Zones that support NAT gateways)."
  default     = "region"

  validation {
    condition     = contains(["region", "local-zone"], var.nat_gateway_placement)
    error_message = "nat_gateway_placement must be \"region\" or \"local-zone\"."
  }
}

# ---------------------------------------------------------------------------
# Compute
# ---------------------------------------------------------------------------

variable "instance_type" {
  type        = string
  description = "EC2 instance type of the trading host; must be offered in the Local Zone."
  default     = "c6in.xlarge"
}

variable "root_volume_size_gb" {
  type        = number
  description = "Size of the encrypted root volume in GiB (Docker images, container volumes, scratch results)."
  default     = 50

  validation {
    condition     = var.root_volume_size_gb >= 20 && var.root_volume_size_gb <= 1000
    error_message = "root_volume_size_gb must be between 20 and 1000."
  }
}

variable "root_volume_type" {
  type        = string
  description = "EBS volume type of the root volume; Local Zones support a subset of types (gp2 everywhere, gp3 in most)."
  default     = "gp3"

  validation {
    condition     = contains(["gp2", "gp3", "io1", "io2"], var.root_volume_type)
    error_message = "root_volume_type must be gp2, gp3, io1 or io2."
  }
}

variable "termination_protection" {
  type        = bool
  description = "Enable EC2 API termination protection on the trading instance (recommended in prod)."
  default     = false
}

# ---------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------

variable "trading_mode" {
  type        = string
  description = "IB Gateway trading mode written to the instance's compose .env: paper (API 4002, relayed on 4004) or live (4001, relayed on 4003)."
  default     = "paper"

  validation {
    condition     = contains(["paper", "live"], var.trading_mode)
    error_message = "trading_mode must be \"paper\" or \"live\"."
  }
}

variable "release_version" {
  type        = string
  description = "Release under s3://<bucket>/releases/<version>/ deployed at first boot; empty means wait for `workbench-deploy <version>` via SSM."
  default     = ""

  validation {
    condition     = can(regex("^([A-Za-z0-9._-]{1,64})?$", var.release_version))
    error_message = "release_version may contain only letters, digits, dot, underscore and hyphen (at most 64)."
  }
}

variable "docker_compose_version" {
  type        = string
  description = "Docker Compose v2 plugin release installed by user data (AL2023 ships the engine but not the plugin)."
  default     = "v2.40.3"

  validation {
    condition     = can(regex("^v2\\.[0-9]+\\.[0-9]+$", var.docker_compose_version))
    error_message = "docker_compose_version must look like v2.X.Y."
  }
}

# ---------------------------------------------------------------------------
# Data, logs, keys
# ---------------------------------------------------------------------------

variable "bucket_force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete the data bucket even when it still holds objects (dev only)."
  default     = false
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which superseded object versions in the data bucket are deleted."
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the container and VPC flow log groups, in days (a value CloudWatch Logs accepts)."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the retention periods CloudWatch Logs supports."
  }
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted Secrets Manager secret can be restored (0 deletes immediately; 7-30 otherwise)."
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "kms_deletion_window_days" {
  type        = number
  description = "Waiting period before the customer-managed KMS key is deleted after terraform destroy."
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}
