# The module library at work: a fine-tune, a vLLM service in two regions per
# model (for_each over a module), batch inference over two datasets and a dev box.

provider "aws" {
  regions = ["us-east-1", "us-west-2", "eu-west-1"]
}

module "finetune" {
  source          = "../../modules/llm-finetune"
  model           = "Qwen/Qwen2.5-7B"
  accelerators    = ["A100-80GB:8", "H100:8"]
  num_nodes       = 2
  checkpoint_uri  = "s3://my-bucket/qwen-7b"
  max_hourly_cost = 200
}

module "serve" {
  for_each = { qwen = "Qwen/Qwen2.5-7B-Instruct", mistral = "mistralai/Mistral-7B-Instruct-v0.3" }
  source   = "../../modules/vllm-serve"
  model    = each.value
  replicas = 2
}

module "batch" {
  source   = "../../modules/batch-inference"
  model    = "Qwen/Qwen2.5-7B-Instruct"
  datasets = { reviews = "s3://my-bucket/reviews", tickets = "s3://my-bucket/tickets" }
  shards   = 3
}

module "dev" {
  source = "../../modules/dev-box"
}

output "ports" {
  value = { for k, m in module.serve : k => m.port }
}
