workload "pinned" {
  placement { providers = ["aws"] }
  run = "a"
}
workload "free" { run = "b" }
