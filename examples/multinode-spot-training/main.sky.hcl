# Pre-process a dataset on CPUs, then train on 4 nodes x 8 H100 (spot first).
# The training job depends on the preprocessing job: it is created after it, and
# its data (data_gb) is counted as egress if the two land on different clouds.

variable "nodes" {
  type    = number
  default = 4
}

variable "dataset" {
  type    = string
  default = "s3://example-datasets/c4-en"
}

locals {
  run_id = "pretrain-${var.nodes}x8"
  common_env = {
    DATASET = var.dataset
    RUN_ID  = local.run_id
  }
}

provider "aws" {
  regions = ["us-east-1", "us-west-2", "eu-west-1"]
  quota {
    accelerator = "H100"
    region      = "us-*"
    max         = 64
  }
}

variable "gcp_project" {
  type        = string
  default     = null
  description = "GCP project to launch in (default: the one Application Default Credentials name)"
}

variable "gcp_endpoint" {
  type        = string
  default     = null
  description = "a private or local Compute Engine endpoint (default: the public API)"
}

provider "gcp" {
  project  = var.gcp_project
  endpoint = var.gcp_endpoint
  regions  = ["us-central1", "europe-west4"]
  quota {
    vcpus = 2048
  }
}

workload "preprocess" {
  resources {
    cpus   = "32+"
    memory = "128+"
  }
  pricing        = "spot"
  duration_hours = 2
  data_gb        = 800
  run            = "python tokenize.py --in ${var.dataset} --out /data/tokens"
  env            = local.common_env
}

workload "train" {
  resources {
    accelerators = ["H100:8", "A100-80GB:8"]
    cpus         = "96+"
    memory       = "1000+"
    disk_gb      = 2000
  }
  num_nodes      = var.nodes
  pricing        = ["spot", "on_demand"]
  duration_hours = 48
  max_hourly_cost = 400

  placement {
    providers = ["aws", "gcp"]
    spread    = "zone"
  }

  setup = "pip install -r requirements.txt"
  run   = <<-EOT
    torchrun --nnodes ${var.nodes} --nproc-per-node 8 \
      --rdzv-endpoint $SKYPLAN_HEAD_IP:29500 train.py --data /data/tokens
  EOT
  env = merge(local.common_env, {
    PREPROCESS_ID = workload.preprocess.id
  })

  lifecycle {
    ignore_changes = [env]
  }
}

output "train_nodes" {
  value = workload.train.num_nodes
}

output "preprocess_id" {
  value = workload.preprocess.id
}
