# Two fine-tunes from one module: the second starts after the first finishes.

provider "aws" {
  regions = ["us-east-1"]
}

module "small" {
  source       = "../../modules/finetune"
  model        = "Qwen/Qwen2.5-1.5B"
  accelerators = ["L4:1"]
  providers    = ["aws"]
}

module "large" {
  source       = "../../modules/finetune"
  model        = "Qwen/Qwen2.5-7B"
  accelerators = ["A100-80GB:1", "H100:1"]
  providers    = ["aws"]
  depends_on   = [module.small]
}

output "models" {
  value = [module.small.model, module.large.model]
}
