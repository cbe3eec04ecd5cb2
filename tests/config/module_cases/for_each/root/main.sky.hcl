module "serve" {
  for_each = { eu = 1, us = 2 }
  source   = "../svc"
  region   = each.key
  replicas = each.value
}
workload "probe" {
  run = "probe ${module.serve["eu"].first}"
}
output "tags" { value = { for k, m in module.serve : k => m.tag } }
