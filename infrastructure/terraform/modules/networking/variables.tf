variable "name_prefix" {
  type        = string
  description = "Prefix for Name tags and resource names, e.g. workbench-prod."
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC; the four subnets are cidrsubnet(vpc_cidr, 4, 0..3)."
}

variable "availability_zone" {
  type        = string
  description = "Parent-Region Availability Zone for the Region-side public and private subnets."
}

variable "local_zone_group" {
  type        = string
  description = "Local Zone group to opt in to, e.g. us-east-1-chi-2."
}

variable "local_zone" {
  type        = string
  description = "Local Zone of the Local Zone subnets, e.g. us-east-1-chi-2a."
}

variable "nat_gateway_placement" {
  type        = string
  description = "\"region\" puts the NAT gateway in the Region public subnet, \"local-zone\" in the Local Zone public subnet."
  default     = "region"

  validation {
    condition     = contains(["region", "local-zone"], var.nat_gateway_placement)
    error_message = "nat_gateway_placement must be \"region\" or \"local-zone\"."
  }
}

variable "flow_log_group_name" {
  type        = string
  description = "Name of the CloudWatch Logs group created for the VPC flow logs."
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of the flow log group in days."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the flow log group (its policy must admit CloudWatch Logs)."
}
