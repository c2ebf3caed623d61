#!/usr/bin/python3
"""Export six torchvision CNNs to ONNX (opset 13, input "input" [1,3,224,224], output "output").

The models are the ones qmap's float-vs-ORT benchmark and the whole-model agreement checks
use: mobilenet_v2, resnet18, resnet50, squeezenet1_1, shufflenet_v2_x1_0, mobilenet_v3_small.

No pretrained weights (no network), so weights are torchvision's default random
initialisation under a fixed seed. Fresh BatchNorm layers have mean 0 / var 1, which
lets activations grow layer after layer until they are meaningless for quantization.
So before export every BatchNorm's running statistics are set from data: the model runs
in train mode (momentum=None: exact average over the batches) on synthetic images with
natural-image-like statistics (smooth multi-scale colour noise plus flat rectangles, then
ImageNet normalisation). Every BN then normalises its input to about N(beta, gamma^2), as
in a trained network. The exporter folds BN into the preceding Conv (eval mode).

Deterministic: the same torch build gives byte-identical files. Existing files are
skipped (use --force to rewrite). Files are written to a temporary name and renamed.

usage (Debian's interpreter; needs python3-torch python3-torchvision python3-onnx):
  /usr/bin/python3 tools/models/export_torchvision.py [--out DIR] [--force] [MODEL ...]
DIR defaults to <repo>/build/models.
"""
import argparse
import os
import sys

MODELS = ["mobilenet_v2", "resnet18", "resnet50", "squeezenet1_1", "shufflenet_v2_x1_0",
          "mobilenet_v3_small"]
OPSET = 13
SEED = 20240601
BN_BATCHES = 16
BN_BATCH = 8
IMAGE_SIZE = 224

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def synthetic_batch(torch, n, seed, size=IMAGE_SIZE):
    """n images [n,3,size,size], ImageNet-normalised. Sum of upsampled Gaussian noise at
    octave scales (energy falling with frequency, as in photos), colour channels sharing a
    luminance part, plus a few constant rectangles for hard edges; each image stretched
    to [0,1] by its 1st/99th percentiles."""
    g = torch.Generator().manual_seed(seed)
    f = torch.nn.functional
    img = torch.zeros(n, 3, size, size)
    for cells, weight in ((3, 1.0), (7, 0.6), (14, 0.4), (28, 0.25), (56, 0.15), (size, 0.08)):
        luma = torch.randn(n, 1, cells, cells, generator=g)
        colour = 0.4 * torch.randn(n, 3, cells, cells, generator=g)
        img += weight * f.interpolate(luma + colour, size=(size, size), mode="bicubic",
                                      align_corners=False)
    for i in range(n):
        for _ in range(3):
            x, y = torch.randint(0, size - 24, (2,), generator=g).tolist()
            w, h = torch.randint(24, size // 2, (2,), generator=g).tolist()
            img[i, :, y:y + h, x:x + w] = torch.randn(3, 1, 1, generator=g)
    flat = img.reshape(n, -1)
    lo = flat.quantile(0.01, dim=1).reshape(n, 1, 1, 1)
    hi = flat.quantile(0.99, dim=1).reshape(n, 1, 1, 1)
    img = ((img - lo) / (hi - lo).clamp_min(1e-6)).clamp(0, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
    return ((img - mean) / std).contiguous()


def set_bn_statistics(torch, model):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average: every batch counts equally
    model.train()
    with torch.no_grad():
        for b in range(BN_BATCHES):
            model(synthetic_batch(torch, BN_BATCH, SEED + 1 + b))
    for bn in bns:
        bn.momentum = 0.1
    model.eval()
    return len(bns)


def export_one(torch, torchvision, onnx, name, path):
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None)
    nbn = set_bn_statistics(torch, model)
    x = synthetic_batch(torch, 1, SEED)
    with torch.no_grad():
        y = model(x)
    tmp = path + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    os.replace(tmp, path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{name}: {nbn} BatchNorms set from data; output range [{y.min():.3f}, {y.max():.3f}]; "
          f"{os.path.getsize(path) / 1e6:.1f} MB -> {path}; ops: {' '.join(ops)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "build", "models"),
                    help="output directory (default: <repo>/build/models)")
    ap.add_argument("--force", action="store_true", help="rewrite files that exist")
    ap.add_argument("models", nargs="*", help=f"subset of: {' '.join(MODELS)}")
    args = ap.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}: choose from {MODELS}")
    names = args.models or MODELS
    todo = [n for n in names
            if args.force or not os.path.exists(os.path.join(args.out, n + ".onnx"))]
    for n in names:
        if n not in todo:
            print(f"{n}: exists, skipped ({os.path.join(args.out, n + '.onnx')})")
    if not todo:
        return 0
    try:
        import onnx
        import torch
        import torchvision
    except ImportError as e:
        sys.exit(f"export_torchvision: {e}: install python3-torch python3-torchvision python3-onnx "
                 f"and run with /usr/bin/python3")
    torch.set_num_threads(os.cpu_count() or 1)
    os.makedirs(args.out, exist_ok=True)
    for n in todo:
        export_one(torch, torchvision, onnx, n, os.path.join(args.out, n + ".onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
