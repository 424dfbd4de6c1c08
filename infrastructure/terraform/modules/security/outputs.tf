output "instance_security_group_id" {
  description = "Security group of the trading instance (egress only)."
  value       = aws_security_group.instance.id
}

output "instance_profile_name" {
  description = "Instance profile wrapping the instance role."
  value       = aws_iam_instance_profile.instance.name
}

output "instance_role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.instance.arn
}

output "instance_role_name" {
  description = "Name of the instance role."
  value       = aws_iam_role.instance.name
}

output "databento_secret_arn" {
  description = "ARN of the Databento API key secret."
  value       = aws_secretsmanager_secret.databento.arn
}

output "databento_secret_name" {
  description = "Name of the Databento API key secret."
  value       = aws_secretsmanager_secret.databento.name
}

output "ib_credentials_secret_arn" {
  description = "ARN of the IB credentials secret."
  value       = aws_secretsmanager_secret.ib_credentials.arn
}

output "ib_credentials_secret_name" {
  description = "Name of the IB credentials secret."
  value       = aws_secretsmanager_secret.ib_credentials.name
}
