module "small" {
  source = "../job"
  model  = "qwen-1.5b"
}
module "large" {
  source     = "../job"
  model      = "qwen-7b"
  gpus       = 2
  depends_on = [module.small]
}
output "models" { value = [module.small.model, module.large.model] }
