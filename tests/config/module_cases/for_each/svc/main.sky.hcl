variable "region" { type = string }
variable "replicas" { type = number }
workload "api" {
  count = var.replicas
  kind  = "service"
  run   = "serve --region ${var.region} --index ${count.index}"
}
module "part" {
  source = "./part"
  tag    = var.region
}
output "first" { value = workload.api[0].run }
output "tag" { value = module.part.tag }
