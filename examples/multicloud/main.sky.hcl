# One team, four places to run: AWS, GCP, Azure and the lab's Kubernetes cluster.
# A two-node training job, an inference service whose 3 replicas run on three
# different providers, and 8 batch shards. The optimizer spreads them over the
# clouds by price, quota and spread; `skyplan plan` shows the spread and what the
# cheapest plan on a single cloud would cost instead.
#
#   skyplan plan -refresh=false examples/multicloud    # no cloud credentials needed
#   skyplan apply examples/multicloud                  # your credentials; or, with private
#     endpoints:  -var aws_endpoint=https://... -var kubeconfig=$HOME/.kube/lab.yaml ...

variable "shards" {
  type    = number
  default = 8
}

# Where each provider's API is. null (the default) means the public APIs and the
# usual credentials (AWS profile, Application Default Credentials, Azure login,
# ~/.kube/config); set them for private or local endpoints.
variable "aws_endpoint" {
  type    = string
  default = null
}

variable "aws_image" {
  type        = string
  default     = null
  description = "AMI for every AWS node (default: the Deep Learning Base AMI of the region)"
}

variable "gcp_endpoint" {
  type    = string
  default = null
}

variable "azure_endpoint" {
  type    = string
  default = null
}

variable "kubeconfig" {
  type        = string
  default     = null
  description = "kubeconfig file holding the lab context (default: ~/.kube/config)"
}

variable "poll_interval" {
  type        = number
  default     = null
  description = "seconds between status polls (default: each provider's own)"
}

provider "aws" {
  regions       = ["us-east-1", "us-west-2"]
  endpoint_url  = var.aws_endpoint
  image_id      = var.aws_image
  poll_interval = var.poll_interval
  quota {
    accelerator = "H100"
    max         = 16
  }
  quota {
    vcpus = 448 # the training job's two 192-vCPU nodes leave 64 for everything else
  }
}

provider "gcp" {
  project       = "example-ml-project"
  regions       = ["us-central1", "us-east4"]
  endpoint      = var.gcp_endpoint
  poll_interval = var.poll_interval
  quota {
    vcpus = 512
  }
}

provider "azure" {
  subscription_id = "00000000-0000-0000-0000-000000000000"
  resource_group  = "skyplan-multicloud"
  regions         = ["eastus", "westus3"]
  endpoint        = var.azure_endpoint
  poll_interval   = var.poll_interval
  quota {
    accelerator = "H100"
    max         = 16
  }
}

provider "kubernetes" {
  kubeconfig    = var.kubeconfig
  context       = "lab"
  poll_interval = var.poll_interval
}

# The lab cluster already exists: two CPU nodes the batch shards can use for free.
fleet "lab" {
  provider = "kubernetes"
  existing = true
  capacity {
    nodes           = 2
    cpus_per_node   = 32
    memory_per_node = 128
  }
}

workload "train" {
  kind = "job"
  resources {
    accelerators = ["H100:8", "H200:8"]
    cpus         = "96+"
    memory       = "1024+"
  }
  num_nodes      = 2
  duration_hours = 24
  pricing        = ["on_demand"]
  placement {
    providers = ["aws", "gcp", "azure"]
  }
  run = "torchrun --nnodes 2 --nproc-per-node 8 train.py"
}

workload "api" {
  kind     = "service"
  replicas = 3
  resources {
    accelerators = ["L4:1", "A10G:1", "T4:1"]
    cpus         = "8+"
    memory       = "32+"
  }
  placement {
    providers = ["aws", "gcp", "azure"]
    spread    = "provider"
  }
  run   = "python -m vllm.entrypoints.openai.api_server --port 8000"
  ports = [8000]
}

workload "shard" {
  count = var.shards
  kind  = "job"
  resources {
    cpus   = "16+"
    memory = "64+"
  }
  duration_hours = 3
  pricing        = ["spot", "on_demand"]
  run            = "python score.py --shard ${count.index} --of ${var.shards}"
}
