variable "bucket_name" {
  type        = string
  description = "Globally unique name of the data and results bucket."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for default SSE-KMS encryption of every object."
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy empty the bucket first (every version of every object is lost)."
  default     = false
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which superseded object versions are deleted."
  default     = 90
}

variable "abort_incomplete_multipart_days" {
  type        = number
  description = "Days after which unfinished multipart uploads are aborted and their parts deleted."
  default     = 7
}
