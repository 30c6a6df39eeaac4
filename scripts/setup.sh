#!/usr/bin/env bash
# Install the Debian packages the project uses (Verilator, Yosys, nextpnr, icestorm, Fashion-MNIST,
# a font for the plots).
# Idempotent: does nothing when everything is present.
set -euo pipefail
need=()
command -v verilator >/dev/null || need+=(verilator)
command -v yosys >/dev/null || need+=(yosys)
command -v nextpnr-ice40 >/dev/null || need+=(nextpnr-ice40)
command -v icepack >/dev/null || need+=(fpga-icestorm)
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
