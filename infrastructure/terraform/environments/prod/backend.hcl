# Partial S3 backend settings for the prod state. The state bucket is account-specific and is
# passed on the command line (see infrastructure/DEPLOY.md):
#   terraform init -backend-config=environments/prod/backend.hcl -backend-config="bucket=<state bucket>"
key          = "workbench/prod/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
