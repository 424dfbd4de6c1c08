output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "region_public_subnet_id" {
  description = "Public subnet in the parent-Region Availability Zone."
  value       = aws_subnet.region_public.id
}

output "region_private_subnet_id" {
  description = "Private subnet in the parent-Region Availability Zone."
  value       = aws_subnet.region_private.id
}

output "local_zone_public_subnet_id" {
  description = "Public subnet in the Local Zone."
  value       = aws_subnet.local_zone_public.id
}

output "local_zone_private_subnet_id" {
  description = "Private subnet in the Local Zone (the trading instance's subnet)."
  value       = aws_subnet.local_zone_private.id
}

output "nat_gateway_id" {
  description = "ID of the NAT gateway used by the private subnets."
  value       = aws_nat_gateway.this.id
}

output "nat_gateway_public_ip" {
  description = "Elastic IP of the NAT gateway (the stack's egress address)."
  value       = aws_eip.nat.public_ip
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "local_zone_opt_in_status" {
  description = "Opt-in status of the Local Zone group."
  value       = aws_ec2_availability_zone_group.local_zone.opt_in_status
}
