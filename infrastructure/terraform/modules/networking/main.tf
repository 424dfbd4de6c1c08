# VPC spanning the parent Region and the Chicago Local Zone.
#
#   Region AZ     public  (NAT gateway when placement = region)   private (spare, e.g. endpoints)
#   Local Zone    public  (NAT gateway when placement = local-zone)  private (trading instance)
#
# Nothing is publicly addressable: no subnet maps public IPs, the instance has none, and
# the only way in is SSM Session Manager, which the instance reaches outbound over HTTPS.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  nat_in_local_zone = var.nat_gateway_placement == "local-zone"
}

# Opting in is account-wide and cannot be undone through the API for every zone; removing
# this resource only drops it from state.
resource "aws_ec2_availability_zone_group" "local_zone" {
  group_name    = var.local_zone_group
  opt_in_status = "opted-in"
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${var.name_prefix}-vpc"
  }
}

# Take over the default security group and leave it without rules, so that nothing
# attached to it by accident can talk to anything.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name_prefix}-default-deny"
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name_prefix}-igw"
  }
}

# ---------------------------------------------------------------------------
# Subnets
# ---------------------------------------------------------------------------

resource "aws_subnet" "region_public" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 0)
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.name_prefix}-public-${var.availability_zone}"
    Tier = "public"
  }
}

resource "aws_subnet" "region_private" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 1)
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.name_prefix}-private-${var.availability_zone}"
    Tier = "private"
  }
}

resource "aws_subnet" "local_zone_public" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 2)
  availability_zone       = var.local_zone
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.name_prefix}-public-${var.local_zone}"
    Tier = "public"
  }

  depends_on = [aws_ec2_availability_zone_group.local_zone]
}

resource "aws_subnet" "local_zone_private" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 3)
  availability_zone       = var.local_zone
  map_public_ip_on_launch = false

  tags = {
    Name = "${var.name_prefix}-private-${var.local_zone}"
    Tier = "private"
  }

  depends_on = [aws_ec2_availability_zone_group.local_zone]
}

# ---------------------------------------------------------------------------
# NAT: outbound-only internet for the private subnets
# ---------------------------------------------------------------------------

resource "aws_eip" "nat" {
  domain = "vpc"
  # An EIP used in a Local Zone must come from the zone's network border group.
  network_border_group = local.nat_in_local_zone ? var.local_zone_group : null

  tags = {
    Name = "${var.name_prefix}-nat"
  }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = local.nat_in_local_zone ? aws_subnet.local_zone_public.id : aws_subnet.region_public.id

  tags = {
    Name = "${var.name_prefix}-nat"
  }

  depends_on = [aws_internet_gateway.this]
}

# ---------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name_prefix}-public"
  }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "region_public" {
  subnet_id      = aws_subnet.region_public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "local_zone_public" {
  subnet_id      = aws_subnet.local_zone_public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${var.name_prefix}-private"
  }
}

resource "aws_route" "private_nat" {
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this.id
}

resource "aws_route_table_association" "region_private" {
  subnet_id      = aws_subnet.region_private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_route_table_association" "local_zone_private" {
  subnet_id      = aws_subnet.local_zone_private.id
  route_table_id = aws_route_table.private.id
}

# ---------------------------------------------------------------------------
# VPC flow logs -> CloudWatch Logs (KMS-encrypted)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = var.flow_log_group_name
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    sid     = "VpcFlowLogsDelivery"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name_prefix}-vpc-flow-logs"
  description        = "Lets VPC Flow Logs write to ${var.flow_log_group_name}"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs_write" {
  statement {
    sid    = "WriteFlowLogGroup"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-log-group"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs_write.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60

  tags = {
    Name = "${var.name_prefix}-flow-logs"
  }
}
