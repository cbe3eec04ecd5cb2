# Quickstart: a two-stage, CPU-only job that runs on this machine through the
# embedded `local` provider. No provider block and no cloud account needed.
#
#   skyplan apply examples/quickstart --auto-approve
#   skyplan status examples/quickstart
#   skyplan logs workload.train examples/quickstart
#   skyplan destroy examples/quickstart --auto-approve
#
# Each node runs in .skyplan/local/<address>/<group>-<rank>/ beside this file,
# so DATA_DIR below is a folder both stages share.

workload "prepare" {
  kind = "job"

  resources {
    cpus = "1+"
  }

  env = {
    DATA_DIR = "../../shared-data"
  }

  # A small synthetic dataset: y = 3x + 2 plus noise.
  run = <<-EOT
    set -euo pipefail
    mkdir -p "$DATA_DIR"
    awk 'BEGIN { srand(42); for (i = 0; i < 200; i++) { x = i / 10; printf "%.4f,%.4f\n", x, 3 * x + 2 + (rand() - 0.5) } }' > "$DATA_DIR/points.csv.tmp"
    mv "$DATA_DIR/points.csv.tmp" "$DATA_DIR/points.csv"
    echo "prepared $(wc -l < "$DATA_DIR/points.csv") points in $DATA_DIR/points.csv"
  EOT
}

workload "train" {
  kind       = "job"
  depends_on = [workload.prepare]

  resources {
    cpus = "1+"
  }

  env = {
    DATA_DIR = "../../shared-data"
  }

  # "Training": a least-squares fit of the prepared points, written to model.txt.
  run = <<-EOT
    set -euo pipefail
    awk -F, '{ n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 } END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx); printf "slope=%.3f intercept=%.3f points=%d\n", b, (sy - b * sx) / n, n }' "$DATA_DIR/points.csv" > model.txt
    cat model.txt
    cp model.txt "$DATA_DIR/model.txt"
  EOT
}

output "model_file" {
  value = ".skyplan/local/shared-data/model.txt"
}
