# Production stack: the always-on trading host. Paper until live trading is signed off;
# switching to live is a deliberate change of trading_mode here plus the IB secret.
# terraform plan -var-file=environments/prod/terraform.tfvars

environment = "prod"
owner       = "workbench-engineering"

aws_region        = "us-east-1"
availability_zone = "us-east-1a"
local_zone_group  = "us-east-1-chi-2"
local_zone        = "us-east-1-chi-2a"
vpc_cidr          = "10.41.0.0/16"

nat_gateway_placement = "region"

instance_type          = "c6in.xlarge"
root_volume_size_gb    = 100
root_volume_type       = "gp3"
termination_protection = true

trading_mode    = "paper"
release_version = ""

bucket_force_destroy               = false
noncurrent_version_expiration_days = 90
log_retention_days                 = 365
secret_recovery_window_days        = 30
kms_deletion_window_days           = 30

additional_tags = {
  CostCenter = "trading"
}
