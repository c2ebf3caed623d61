#!/usr/bin/env bash
# The accuracy suite (issue 13): every real model of ../shared (and the demo's Fashion-MNIST
# model, which the project makes itself) through qmap makertbin and qmap eval, float and int8
# side by side, per calibration variant. Use it for every accuracy claim.
#
#   bench/accuracy_suite.sh [--models m1,m2] [--variants v1,v2] [--jitter N] [--jobs N] [--no-build]
#
# Models (default: all whose files exist):
#   mobilenetv2  ../shared MobileNetV2 1.0 on imagenet-dev (300), calibrated on imagenet-calib (100)
#   mobilenetv1  ../shared MobileNetV1 0.5 160 (1001 outputs: eval --label-offset 1), same images
#   resnet8      ../shared CIFAR-10 ResNet-8: calibrated on every 10th image of cifar10-dev (100),
#                evaluated on the other 900
#   lenet        ../shared Caffe LeNet: calibrated on MNIST test images 0..99, evaluated on 100..9999
#   demo         the demo's Fashion-MNIST CNN: calibrated on 100 train images, evaluated on the
#                10,000 test images (needs dataset-fashion-mnist)
# A variant is a calibration_type, optionally followed by calibration_parameters keys:
#   default   max   kl   default+bias_correction=off   max+max_percentile=0.9999
# Default variants: default, max, kl, mse, default with bias correction off, and default
# with each optional technique on (adaround=True, accuracy_budget=0.999).
# --jitter N adds, per variant, a row of N more conversions with every threshold of the
# variant's table (ort_static: every calibrated min and max) moved by up to +-0.1%
# (seeded): their spread is the evaluation's noise.
# Variant ort_static is the peer: ONNX Runtime's quantize_static recipe (MinMax, per-channel
# QDQ, bench/ort_quantize_static.py) on the same calibration images, run by ONNX Runtime
# (needs tools/ort's npm install); it is not in the default list.
#
# Prints one row per model and variant: float and int8 top-1/top-5 (%), the top-1 drop in
# points (with the images lost and gained against float and the McNemar p-value of that
# split), the mean output cosine of the .bin against the float model over the evaluation
# images, the top-1 agreement, and makertbin's wall time. The table also goes to
# build/accuracy_suite/report.md. 300 images make one image 0.33 points: read drops
# smaller than about one point on imagenet-dev as noise, and look at the cosine too.
# Environment: BUILD_DIR (default <repo>/build), SHARED (default <repo>/../shared), JOBS (2).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$here/build}"
shared="${SHARED:-$here/../shared}"
jobs="${JOBS:-2}"
python=/usr/bin/python3
models=""
variants="default,default+adaround=True,default+accuracy_budget=0.999,default+bias_correction=False,max,kl,mse"
do_build=1
jitter=0
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --variants) variants="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --jitter) jitter="$2"; shift 2 ;;
    -h|--help) sed -n 2,33p "$0"; exit 0 ;;
    *) echo "accuracy_suite: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$models" ]; then
  models=""
  [ -f "$shared/models/onnx/mobilenetv2-12-float.onnx" ] && models+="mobilenetv2,"
  [ -f "$shared/models/onnx/mobilenet_v1_0.5_160_float.onnx" ] && models+="mobilenetv1,"
  [ -f "$shared/models/onnx/resnet_v1_8_32_cifar10_float.onnx" ] && models+="resnet8,"
  [ -f "$shared/models/caffe/lenet/mnist_deploy.prototxt" ] && models+="lenet,"
  [ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] && models+="demo,"
  models="${models%,}"
fi
[ -n "$models" ] || { echo "accuracy_suite: no model found (set SHARED, or install dataset-fashion-mnist)" >&2; exit 1; }
if [ "$do_build" = 1 ]; then "$here/scripts/build.sh" --target qmap >/dev/null; fi
qmap="$build/qmap"
work="$build/accuracy_suite"
mkdir -p "$work"
report="$work/report.md"

# --- per model: the model lines of the YAML, the calibration data, the evaluation set -------
# Each prepare_<model> fills the model's folder once and sets: MODEL_YAML (model_parameters
# and input_parameters), EVAL_ARGS (data, labels and image flags for qmap eval), MODEL_TYPE.

prepare_mobilenetv2() {
  local d="$1"
  [ -d "$d/caldata" ] || "$qmap" preprocess --input-dir "$shared/data/imagenet-calib" --output-dir "$d/caldata" \
    --short-side-resize 256 --center-crop 224 --color rgb --layout NCHW --dtype uint8 >/dev/null
  MODEL_TYPE=onnx
  MODEL_YAML="model_parameters:
  onnx_model: '$shared/models/onnx/mobilenetv2-12-float.onnx'
input_parameters:
  input_name: input
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_mean_and_scale
  mean_value: 123.675 116.28 103.53
  scale_value: 0.017125 0.017507 0.017429"
  EVAL_ARGS=(--data "$shared/data/imagenet-dev" --labels "$shared/data/imagenet-dev/labels.txt"
             --short-side-resize 256 --center-crop 224)
  CAL_SRC="$shared/data/imagenet-calib"
  RT_ARGS=(--short-side-resize 256 --center-crop 224 --color rgb --layout NHWC)
}

prepare_mobilenetv1() {
  local d="$1"
  # TF-slim's crop keeps the central 87.5%; short side 183 (= 160 / 0.875) then a 160 crop
  # is the same for square images and qmap's flags can say it (../shared/data/README.md).
  [ -d "$d/caldata" ] || "$qmap" preprocess --input-dir "$shared/data/imagenet-calib" --output-dir "$d/caldata" \
    --short-side-resize 183 --center-crop 160 --color rgb --layout NCHW --dtype uint8 >/dev/null
  MODEL_TYPE=onnx
  MODEL_YAML="model_parameters:
  onnx_model: '$shared/models/onnx/mobilenet_v1_0.5_160_float.onnx'
input_parameters:
  input_name: input
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_mean_and_scale
  mean_value: 128 128 128
  scale_value: 0.0078125 0.0078125 0.0078125"
  EVAL_ARGS=(--data "$shared/data/imagenet-dev" --labels "$shared/data/imagenet-dev/labels.txt"
             --short-side-resize 183 --center-crop 160 --label-offset 1)
  CAL_SRC="$shared/data/imagenet-calib"
  RT_ARGS=(--short-side-resize 183 --center-crop 160 --color rgb --layout NHWC)
}

prepare_resnet8() {
  local d="$1" src="$shared/data/cifar10-dev"
  if [ ! -d "$d/caldata" ]; then
    mkdir -p "$d/calimages"
    awk 'NR % 10 == 1' "$src/labels.txt" | while read -r f _; do ln -sf "$src/$f" "$d/calimages/$f"; done
    awk 'NR % 10 != 1' "$src/labels.txt" > "$d/eval_labels.txt"
    "$qmap" preprocess --input-dir "$d/calimages" --output-dir "$d/caldata" --color rgb --layout NCHW \
      --dtype uint8 >/dev/null
  fi
  MODEL_TYPE=onnx
  MODEL_YAML="model_parameters:
  onnx_model: '$shared/models/onnx/resnet_v1_8_32_cifar10_float.onnx'
input_parameters:
  input_name: input
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_scale
  scale_value: 0.0039215686 0.0039215686 0.0039215686"
  EVAL_ARGS=(--data "$src" --labels "$d/eval_labels.txt")
  CAL_SRC="$d/calimages"
  RT_ARGS=(--color rgb --layout NHWC)
}

mnist_like() {  # folder data-dir split calib-count: PNGs for calibration (first N) and eval (the rest)
  local d="$1" data="$2" split="$3" n="$4"
  if [ ! -d "$d/caldata" ]; then
    "$python" "$here/tools/fashion_mnist_images.py" "$d/calimages" --split "$split" --count "$n" --data-dir "$data" >/dev/null
    "$qmap" preprocess --input-dir "$d/calimages" --output-dir "$d/caldata" --color gray --layout NCHW \
      --dtype uint8 >/dev/null
  fi
}

prepare_lenet() {
  local d="$1"
  mnist_like "$d" "$shared/data/mnist" test 100
  [ -d "$d/eval" ] || "$python" "$here/tools/fashion_mnist_images.py" "$d/eval" --split test --offset 100 \
    --count 9900 --data-dir "$shared/data/mnist" >/dev/null
  MODEL_TYPE=caffe
  MODEL_YAML="model_parameters:
  prototxt: '$shared/models/caffe/lenet/mnist_deploy.prototxt'
  caffe_model: '$shared/models/caffe/lenet/lenet_iter_10000.caffemodel'
input_parameters:
  input_type_train: gray
  input_layout_train: NCHW
  input_type_rt: gray
  input_layout_rt: NCHW
  norm_type: data_scale
  scale_value: 0.00390625"
  EVAL_ARGS=(--data "$d/eval" --labels "$d/eval/labels.txt")
  CAL_SRC="$d/calimages"
  RT_ARGS=(--color gray --layout NCHW)
}

prepare_demo() {
  local d="$1" data=/usr/share/datasets/fashion-mnist
  mnist_like "$d" "$data" train 100
  [ -d "$d/eval" ] || "$python" "$here/tools/fashion_mnist_images.py" "$d/eval" --split test --data-dir "$data" >/dev/null
  MODEL_TYPE=onnx
  MODEL_YAML="model_parameters:
  onnx_model: '$here/examples/fashion_mnist/model/fashion_cnn.onnx'
input_parameters:
  input_name: image
  input_type_train: gray
  input_layout_train: NCHW
  input_type_rt: gray
  input_layout_rt: NCHW
  norm_type: data_mean_and_scale
  mean_value: 72.93
  scale_value: 0.011109259567849803"
  EVAL_ARGS=(--data "$d/eval" --labels "$d/eval/labels.txt")
  CAL_SRC="$d/calimages"
  RT_ARGS=(--color gray --layout NCHW)
}

# FOLDER/config.yaml: the model's YAML lines, then march and output, then the calibration data
# and `calibration_type: METHOD` (METHOD may carry more calibration_parameters lines).
write_config() {  # folder caldata method
  printf '%s\n' "$MODEL_YAML" | sed "s#^model_parameters:#model_parameters:\n  march: generic\n  working_dir: '$1/out'\n  output_model_file_prefix: m#" > "$1/config.yaml"
  cat >> "$1/config.yaml" <<YAML
calibration_parameters:
  cal_data_dir: '$2'
  cal_data_type: uint8
  calibration_type: $3
compiler_parameters:
  jobs: $jobs
YAML
}

# --- the peer: ONNX Runtime's quantize_static ------------------------------------------------
# Variant 'ort_static': bench/ort_quantize_static.py rebuilds quantize_static's default recipe
# (MinMax, per-channel QDQ, uint8 asymmetric activations) on makertbin's original float model,
# calibrated on the same images; ONNX Runtime runs both models over the same evaluation images
# (fed as the uint8 tensors the .bin would get). The float column is ONNX Runtime's.
run_ort_static() {
  local model="$1" d="$work/$1" v="$work/$1/ort_static" js="$here/bench/ort_quantize_static.js"
  local py="$here/bench/ort_quantize_static.py" data="" labels="" offset=0 i
  for ((i = 0; i < ${#EVAL_ARGS[@]}; i++)); do
    case "${EVAL_ARGS[$i]}" in
      --data) data="${EVAL_ARGS[$((i + 1))]}" ;;
      --labels) labels="${EVAL_ARGS[$((i + 1))]}" ;;
      --label-offset) offset="${EVAL_ARGS[$((i + 1))]}" ;;
    esac
  done
  rm -rf "$v" && mkdir -p "$v"
  # makertbin only for its original float model (with the preprocess node): max is the fastest method.
  write_config "$v" "$d/caldata" max
  "$qmap" makertbin --config "$v/config.yaml" --model-type "$MODEL_TYPE" --no-progress >"$v/makertbin.txt" 2>&1 ||
    { echo "accuracy_suite: $model ort_static: makertbin failed (see $v/makertbin.txt)" >&2; return 1; }
  [ -d "$d/caldata_rt" ] || "$qmap" preprocess --input-dir "$CAL_SRC" --output-dir "$d/caldata_rt" "${RT_ARGS[@]}" --dtype uint8 >/dev/null
  [ -d "$d/eval_rt" ] || "$qmap" preprocess --input-dir "$data" --output-dir "$d/eval_rt" "${RT_ARGS[@]}" --dtype uint8 >/dev/null
  local t0 t1 m="$v/out/m_original_float_model.onnx"
  t0=$(date +%s.%N)
  "$python" "$py" outputs "$m" "$v/all_outputs.onnx" &&
    node "$js" minmax --model "$v/all_outputs.onnx" --data "$d/caldata_rt" --out "$v/ranges.json" &&
    "$python" "$py" qdq "$m" "$v/ranges.json" "$v/qdq.onnx" 2>"$v/qdq.txt" &&
    "$python" "$py" fold "$m" "$v/float.onnx" ||
    { echo "accuracy_suite: $model ort_static: quantizing failed" >&2; return 1; }
  t1=$(date +%s.%N)
  node "$js" eval --model "$v/float.onnx" --model "$v/qdq.onnx" --data "$d/eval_rt" --labels "$labels" \
    --label-offset "$offset" --json "$v/eval.json" ||
    { echo "accuracy_suite: $model ort_static: evaluation failed" >&2; return 1; }
  print_row "$v/eval.json" "$model" "ort_static" "ONNX Runtime quantize_static (MinMax, per-channel QDQ)" "$t0" "$t1"
  [ "$jitter" -gt 0 ] || return 0
  # --jitter: every calibrated min and max times (1 + u), u uniform in [-0.001, 0.001], as for qmap's tables.
  local k jsons=()
  for ((k = 1; k <= jitter; k++)); do
    "$python" - "$v/ranges.json" "$v/ranges_$k.json" "$k" <<'PY'
import json, random, sys
rng = random.Random(int(sys.argv[3]))
r = json.load(open(sys.argv[1]))
json.dump({t: [v * (1 + rng.uniform(-0.001, 0.001)) for v in mm] for t, mm in r.items()}, open(sys.argv[2], "w"))
PY
    "$python" "$py" qdq "$m" "$v/ranges_$k.json" "$v/qdq_$k.onnx" 2>/dev/null &&
      node "$js" eval --model "$v/float.onnx" --model "$v/qdq_$k.onnx" --data "$d/eval_rt" --labels "$labels" \
        --label-offset "$offset" --json "$v/eval_$k.json" ||
      { echo "accuracy_suite: $model ort_static jitter $k failed" >&2; return 1; }
    jsons+=("$v/eval_$k.json")
  done
  print_jitter_row "$model" "ort_static" "$v/eval.json" "${jsons[@]}"
}

print_row() {  # eval.json model variant method t0 t1
  "$python" - "$@" <<'PY' | tee -a "$report"
import json, math, sys
r = json.load(open(sys.argv[1]))
f, q = r["models"][0], r["models"][1]
# The drop with the images lost and gained against float and the exact McNemar p-value
# (qmap eval's; computed here only for the peer's report, which has the counts alone).
if "top1_lost_vs_first" not in q:
    sys.exit("accuracy_suite: {} has no top1_lost_vs_first: a qmap older than this script (build it, or drop --no-build)".format(sys.argv[1]))
lost, gained = q["top1_lost_vs_first"], q["top1_gained_vs_first"]
p = q.get("top1_change_p_vs_first")
if p is None:
    n = lost + gained
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(min(lost, gained) + 1)) / 2**n) if n else 1.0
print("| {} | {} | {} | {:.2f} | {:.2f} | {:+.2f} (-{} +{}, p {:.2g}) | {:.2f} | {:.2f} | {:.6f} | {:.2f} | {} | {:.1f} |".format(
    sys.argv[2], sys.argv[3], sys.argv[4], 100 * f["top1"], 100 * q["top1"], 100 * (q["top1"] - f["top1"]), lost, gained,
    p, 100 * f["top5"], 100 * q["top5"], q["cosine_vs_first"], 100 * q["top1_agree_vs_first"], f["images"],
    float(sys.argv[6]) - float(sys.argv[5])))
PY
}

# --- one variant of one model ---------------------------------------------------------------
run_variant() {
  local model="$1" variant="$2" d="$work/$1"
  if [ "$variant" = ort_static ]; then run_ort_static "$model"; return; fi
  local method="${variant%%+*}" extra=""
  if [ "$variant" != "$method" ]; then
    local IFS='+'
    for kv in ${variant#*+}; do extra+="
  ${kv%%=*}: ${kv#*=}"; done
  fi
  local v="$d/${variant//[+=:]/_}"
  rm -rf "$v" && mkdir -p "$v"
  write_config "$v" "$d/caldata" "$method$extra"
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$qmap" makertbin --config "$v/config.yaml" --model-type "$MODEL_TYPE" --no-progress >"$v/makertbin.txt" 2>&1; then
    echo "accuracy_suite: $model $variant: makertbin failed (see $v/makertbin.txt):" >&2
    tail -n 3 "$v/makertbin.txt" >&2
    return 1
  fi
  t1=$(date +%s.%N)
  "$qmap" eval --model "$v/out/m_original_float_model.onnx" --model "$v/out/m.bin" "${EVAL_ARGS[@]}" \
    --jobs "$jobs" --no-progress --json "$v/eval.json" >"$v/eval.txt"
  local chosen bc
  chosen=$(grep -oE "calibration method: [^ ]+$" "$v/makertbin.txt" | tail -n 1 | sed 's/calibration method: //')
  bc=$(grep -oE "bias correction: (kept|not kept|off)" "$v/makertbin.txt" | tail -n 1 | sed 's/bias correction: //')
  chosen="$chosen, bias correction ${bc:-n/a}"
  print_row "$v/eval.json" "$model" "$variant" "$chosen" "$t0" "$t1"
  [ "$jitter" -gt 0 ] && run_jitter "$model" "$variant" "$v"
  return 0
}

# --jitter N: the variant's calibration table with every threshold times (1 + u), u uniform
# in [-0.001, 0.001] (seeded by the run index), converted and evaluated N times. No
# calibration is better or worse by 0.1%, so the spread of these runs is the evaluation's
# noise floor: on MobileNetV2 and 300 images, top-1 moved by up to 3 points.
run_jitter() {
  local model="$1" variant="$2" v="$3" k jsons=()
  for ((k = 1; k <= jitter; k++)); do
    local j="$v/jitter_$k"
    rm -rf "$j" && mkdir -p "$j"
    "$python" - "$v/out/m_calibration_table.txt" "$j/table.txt" "$k" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[3]))
out = []
for line in open(sys.argv[1]):
    f = line.split()
    if line.startswith("#") or len(f) < 2:
        out.append(line)
        continue
    # "<name> <threshold> [<method>]" (a name with spaces is quoted): the method label, when
    # there is one, is never a number, so the threshold is the last field that is.
    head, last = line.rstrip("\n").rsplit(" ", 1)
    try:
        out.append("{} {!r}\n".format(head, float(last) * (1 + rng.uniform(-0.001, 0.001))))
    except ValueError:
        name, t = head.rsplit(" ", 1)
        out.append("{} {!r} {}\n".format(name, float(t) * (1 + rng.uniform(-0.001, 0.001)), last))
open(sys.argv[2], "w").writelines(out)
PY
    sed "s#working_dir: .*#working_dir: '$j/out'#" "$v/config.yaml" > "$j/config.yaml"
    "$qmap" makertbin --config "$j/config.yaml" --model-type "$MODEL_TYPE" --no-progress \
      --calibration-table "$j/table.txt" >"$j/makertbin.txt" 2>&1 ||
      { echo "accuracy_suite: $model $variant jitter $k: makertbin failed (see $j/makertbin.txt)" >&2; return 1; }
    "$qmap" eval --model "$j/out/m_original_float_model.onnx" --model "$j/out/m.bin" "${EVAL_ARGS[@]}" \
      --jobs "$jobs" --no-progress --json "$j/eval.json" >/dev/null
    jsons+=("$j/eval.json")
  done
  print_jitter_row "$model" "$variant" "$v/eval.json" "${jsons[@]}"
}

print_jitter_row() {  # model variant eval.json (the variant's own run) eval.json... (the jittered runs)
  "$python" - "$@" <<'PY' | tee -a "$report"
import json, statistics, sys
runs = [json.load(open(f))["models"] for f in sys.argv[3:]]  # the variant's own run first
drop = [100 * (q["top1"] - f["top1"]) for f, q in runs]
top1 = [100 * q["top1"] for _, q in runs]
top5 = [100 * q["top5"] for _, q in runs]
f = runs[0][0]
print("| {} | {} and {} more with its ranges x (1 +- 0.1%): mean, drop's sd and range | jittered | {:.2f} | {:.2f} | "
      "{:+.2f} (sd {:.2f}, {:+.2f} to {:+.2f}) | {:.2f} | {:.2f} | {:.6f} | {:.2f} | {} | |".format(
    sys.argv[1], sys.argv[2], len(runs) - 1, 100 * f["top1"], statistics.mean(top1), statistics.mean(drop),
    statistics.stdev(drop) if len(drop) > 1 else 0.0, min(drop), max(drop), 100 * f["top5"], statistics.mean(top5),
    statistics.mean(q["cosine_vs_first"] for _, q in runs),
    statistics.mean(100 * q["top1_agree_vs_first"] for _, q in runs), f["images"]))
PY
}

{
  echo "# qmap accuracy suite, $(date -u +%Y-%m-%d), $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?'), $jobs jobs"
  echo
  echo "| model | variant | method chosen, bias correction | float top-1 | int8 top-1 | drop | float top-5 | int8 top-5 | output cosine | top-1 agree % | images | makertbin s |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
} | tee "$report"
status=0
IFS=',' read -r -a model_list <<<"$models"
IFS=',' read -r -a variant_list <<<"$variants"
for m in "${model_list[@]}"; do
  case "$m" in mobilenetv2|mobilenetv1|resnet8|lenet|demo) ;; *) echo "accuracy_suite: unknown model '$m'" >&2; exit 2 ;; esac
  mkdir -p "$work/$m"
  "prepare_$m" "$work/$m"
  for v in "${variant_list[@]}"; do run_variant "$m" "$v" || status=1; done
done
echo
echo "report: $report"
exit $status
