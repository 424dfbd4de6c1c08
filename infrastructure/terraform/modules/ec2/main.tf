# The trading host: Amazon Linux 2023 in the Local Zone's private subnet, no public
# address, IMDSv2 only, encrypted root volume. User data installs Docker and the Compose
# plugin, drops the deploy helpers and a systemd unit that runs the compose stack.

data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]

  filter {
    name   = "name"
    values = ["al2023-ami-2023.*-kernel-*-x86_64"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }

  filter {
    name   = "root-device-type"
    values = ["ebs"]
  }
}

locals {
  user_data = templatefile("${path.module}/templates/user_data.sh.tftpl", {
    aws_region                = var.aws_region
    environment               = var.environment
    bucket_name               = var.bucket_name
    databento_secret_arn      = var.databento_secret_arn
    ib_credentials_secret_arn = var.ib_credentials_secret_arn
    container_log_group_name  = var.container_log_group_name
    trading_mode              = var.trading_mode
    release_version           = var.release_version
    docker_compose_version    = var.docker_compose_version
    render_env_script         = file("${path.module}/files/workbench-render-env.sh")
    deploy_script             = file("${path.module}/files/workbench-deploy.sh")
    systemd_unit              = file("${path.module}/files/workbench.service")
  })
}

resource "aws_instance" "this" {
  ami                     = data.aws_ami.al2023.id
  instance_type           = var.instance_type
  subnet_id               = var.subnet_id
  vpc_security_group_ids  = var.security_group_ids
  iam_instance_profile    = var.instance_profile_name
  disable_api_termination = var.termination_protection
  ebs_optimized           = true
  monitoring              = true

  associate_public_ip_address = false

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # 2, not 1: the containers sit one Docker bridge hop away and need the role's
    # credentials (IMDSv2 tokens still required) for S3.
    http_put_response_hop_limit = 2
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    volume_type           = var.root_volume_type
    volume_size           = var.root_volume_size_gb
    delete_on_termination = true
  }

  user_data                   = local.user_data
  user_data_replace_on_change = false

  tags = {
    Name = "${var.name_prefix}-trading"
  }

  volume_tags = {
    Name = "${var.name_prefix}-trading-root"
  }

  lifecycle {
    # A newer AL2023 AMI must not replace a running trading host on the next plan;
    # roll it deliberately: terraform apply -replace=module.ec2.aws_instance.this
    ignore_changes = [ami]
  }
}
