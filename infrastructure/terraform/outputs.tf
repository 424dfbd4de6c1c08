output "instance_id" {
  description = "ID of the trading instance (target of aws ssm start-session)."
  value       = module.ec2.instance_id
}

output "instance_private_ip" {
  description = "Private IPv4 address of the trading instance in the Local Zone subnet."
  value       = module.ec2.private_ip
}

output "instance_ami_id" {
  description = "Amazon Linux 2023 AMI the instance was launched from."
  value       = module.ec2.ami_id
}

output "bucket_name" {
  description = "S3 bucket for market data (data/), results (results/) and releases (releases/)."
  value       = module.storage.bucket_name
}

output "bucket_arn" {
  description = "ARN of the data and results bucket."
  value       = module.storage.bucket_arn
}

output "kms_key_arn" {
  description = "ARN of the customer-managed key encrypting the bucket, secrets, root volume and logs."
  value       = aws_kms_key.main.arn
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.networking.vpc_id
}

output "local_zone_private_subnet_id" {
  description = "Private subnet in the Chicago Local Zone that hosts the instance."
  value       = module.networking.local_zone_private_subnet_id
}

output "nat_gateway_public_ip" {
  description = "Egress IP of the stack (whitelist it where a provider wants a fixed source address)."
  value       = module.networking.nat_gateway_public_ip
}

output "instance_security_group_id" {
  description = "Security group of the instance (no ingress rules)."
  value       = module.security.instance_security_group_id
}

output "instance_role_arn" {
  description = "IAM role assumed by the instance."
  value       = module.security.instance_role_arn
}

output "databento_secret_arn" {
  description = "Secrets Manager secret to fill with the Databento API key (plain string)."
  value       = module.security.databento_secret_arn
}

output "ib_credentials_secret_arn" {
  description = "Secrets Manager secret to fill with the IB credentials (JSON: username, password)."
  value       = module.security.ib_credentials_secret_arn
}

output "container_log_group_name" {
  description = "CloudWatch Logs group receiving the containers' stdout/stderr."
  value       = aws_cloudwatch_log_group.containers.name
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group receiving the VPC flow logs."
  value       = module.networking.flow_log_group_name
}

output "jupyter_port_forward_command" {
  description = "Command that forwards localhost:8888 to JupyterLab on the instance through SSM."
  value       = "aws ssm start-session --region ${var.aws_region} --target ${module.ec2.instance_id} --document-name AWS-StartPortForwardingSession --parameters '{\"portNumber\":[\"8888\"],\"localPortNumber\":[\"8888\"]}'"
}
