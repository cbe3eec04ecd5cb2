variable "base" { type = number }
module "inner" {
  count  = 2
  source = "../inner"
  n      = var.base * 10 + count.index
}
output "ns" { value = module.inner[*].n }
