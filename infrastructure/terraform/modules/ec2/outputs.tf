output "instance_id" {
  description = "ID of the trading instance."
  value       = aws_instance.this.id
}

output "instance_arn" {
  description = "ARN of the trading instance."
  value       = aws_instance.this.arn
}

output "private_ip" {
  description = "Private IPv4 address of the trading instance."
  value       = aws_instance.this.private_ip
}

output "availability_zone" {
  description = "Zone the instance runs in (the Local Zone)."
  value       = aws_instance.this.availability_zone
}

output "ami_id" {
  description = "AMI the instance was launched from."
  value       = aws_instance.this.ami
}
