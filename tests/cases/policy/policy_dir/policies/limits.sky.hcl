variable "gpu_limit" {
  default = 2
}

policy "gpu-limit" {
  max_gpus = var.gpu_limit
}

policy "no-spot" {
  enforcement    = "advisory"
  denied_pricing = ["spot"]
}
