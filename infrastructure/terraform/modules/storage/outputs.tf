output "bucket_name" {
  description = "Name (ID) of the data and results bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the data and results bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional endpoint host name of the bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
