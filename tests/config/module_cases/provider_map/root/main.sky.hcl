provider "aws" {
  regions = ["us-east-1"]
}
provider "aws" {
  alias   = "west"
  regions = ["us-west-2"]
}
module "west" {
  source    = "../mod"
  providers = { aws = aws.west }
}
module "plain" {
  source = "../mod"
}
