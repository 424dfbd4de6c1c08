# Development stack: paper trading, cheaper to tear down.
# terraform plan -var-file=environments/dev/terraform.tfvars

environment = "dev"
owner       = "workbench-engineering"

aws_region        = "us-east-1"
availability_zone = "us-east-1a"
local_zone_group  = "us-east-1-chi-2"
local_zone        = "us-east-1-chi-2a"
vpc_cidr          = "10.40.0.0/16"

nat_gateway_placement = "region"

instance_type          = "c6in.xlarge"
root_volume_size_gb    = 50
root_volume_type       = "gp3"
termination_protection = false

trading_mode    = "paper"
release_version = ""

bucket_force_destroy               = true
noncurrent_version_expiration_days = 30
log_retention_days                 = 365
secret_recovery_window_days        = 7
kms_deletion_window_days           = 7

additional_tags = {
  CostCenter = "research"
}
