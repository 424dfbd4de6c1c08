variable "name_prefix" {
  type        = string
  description = "Prefix for the instance's Name tag, e.g. workbench-prod."
}

variable "environment" {
  type        = string
  description = "Environment name written to the instance's configuration (dev or prod)."
}

variable "aws_region" {
  type        = string
  description = "Region whose service endpoints (S3, Secrets Manager, CloudWatch Logs) the instance calls."
}

variable "instance_type" {
  type        = string
  description = "EC2 instance type; must be offered in the subnet's Local Zone."
  default     = "c6in.xlarge"
}

variable "subnet_id" {
  type        = string
  description = "Private (Local Zone) subnet the instance is launched in."
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups attached to the instance's network interface."

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "At least one security group is required (otherwise the VPC default group would be used)."
  }
}

variable "instance_profile_name" {
  type        = string
  description = "IAM instance profile giving the instance its role."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key encrypting the root EBS volume."
}

variable "root_volume_size_gb" {
  type        = number
  description = "Root volume size in GiB."
  default     = 50
}

variable "root_volume_type" {
  type        = string
  description = "Root volume EBS type."
  default     = "gp3"
}

variable "termination_protection" {
  type        = bool
  description = "Enable disable_api_termination on the instance."
  default     = false
}

variable "bucket_name" {
  type        = string
  description = "Data bucket: releases are read from releases/<version>/, data lives under data/."
}

variable "databento_secret_arn" {
  type        = string
  description = "Secret holding the Databento API key, read at service start."
}

variable "ib_credentials_secret_arn" {
  type        = string
  description = "Secret holding the IB login JSON (username, password), read at service start."
}

variable "container_log_group_name" {
  type        = string
  description = "CloudWatch Logs group for the containers (Docker awslogs driver)."
}

variable "trading_mode" {
  type        = string
  description = "IB Gateway trading mode: paper or live."
  default     = "paper"

  validation {
    condition     = contains(["paper", "live"], var.trading_mode)
    error_message = "trading_mode must be \"paper\" or \"live\"."
  }
}

variable "release_version" {
  type        = string
  description = "Release deployed at first boot from s3://<bucket>/releases/<version>/; empty to deploy later."
  default     = ""
}

variable "docker_compose_version" {
  type        = string
  description = "Docker Compose v2 plugin release installed at boot."
  default     = "v2.40.3"
}
