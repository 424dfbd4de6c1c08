variable "name_prefix" {
  type        = string
  description = "Prefix for resource names, e.g. workbench-prod; also the secrets' name path."
}

variable "vpc_id" {
  type        = string
  description = "VPC in which the instance security group is created."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of the data and results bucket the instance may use."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the bucket and the secrets; the instance may use it only through S3 and Secrets Manager."
}

variable "container_log_group_arn" {
  type        = string
  description = "ARN of the CloudWatch Logs group the containers write to."
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Recovery window of the two secrets after deletion (0 = immediate)."
  default     = 30
}

variable "bucket_read_write_prefixes" {
  type        = list(string)
  description = "Key prefixes (without trailing slash) the instance may read, write and delete."
  default     = ["data", "results"]
}

variable "bucket_read_only_prefixes" {
  type        = list(string)
  description = "Key prefixes (without trailing slash) the instance may only read, e.g. releases."
  default     = ["releases"]
}
