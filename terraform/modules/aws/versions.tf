terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 6.29 is the first release whose aws_lambda_permission has `invoked_via_function_url`,
      # which public function URLs need since October 2025 (see lambda.tf).
      version = ">= 6.29.0, < 7.0.0"
    }
  }
}
