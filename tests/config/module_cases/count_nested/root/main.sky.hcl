module "outer" {
  count  = 2
  source = "../outer"
  base   = count.index + 1
}
output "ns" { value = flatten(module.outer[*].ns) }
