terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.29.0, < 7.0.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = ">= 5.12.0, < 6.0.0"
    }
  }

  # Production's own state: its own bucket and lock table in its own AWS account, in Frankfurt,
  # encrypted. State holds the sensitive variables' values, so only this environment's plan and
  # release roles can read it.
  backend "s3" {
    bucket         = "regrooter-tfstate-prod"
    key            = "regrooter/prod/terraform.tfstate"
    region         = "eu-central-1"
    dynamodb_table = "regrooter-tfstate-lock-prod"
    encrypt        = true
  }
}

provider "aws" {
  region = var.region

  # This root can only ever act on the Production account, whatever credentials it is given.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      project     = "regrooter"
      environment = "production"
      managed-by  = "terraform"
    }
  }
}

# Token from CLOUDFLARE_API_TOKEN (CI secret store), scoped to this environment's account.
provider "cloudflare" {}
