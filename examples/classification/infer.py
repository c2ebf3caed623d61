#!/usr/bin/env python3
"""Classify one image with any stage's model (float .onnx, quantized .onnx, .bin) and print
the top-5 with probabilities and class names, like `qmap infer --labels`.

    python3 examples/classification/infer.py --model model_output/mobilenetv2_224x224_rgb_quantized_model.onnx \
        --image zebra.jpg --short-side 256 --crop 224 --labels synset_words.txt
"""
import argparse
import sys

from common import add_image_options, image_options, probabilities, qmap, read_class_names, top_k


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="a model written by qmap makertbin (.onnx or .bin)")
    p.add_argument("--image", required=True, help="JPEG, PNG or BMP")
    p.add_argument("--labels", help="class names, one a line (line i = class i)")
    p.add_argument("--topk", type=int, default=5)
    add_image_options(p)
    args = p.parse_args()

    try:
        sess = qmap.Session(args.model)
        if len(sess.input_names) != 1:
            sys.exit("infer: model '%s' has %d inputs (%s): this example feeds one image" %
                     (args.model, len(sess.input_names), ", ".join(sess.input_names)))
        x = qmap.load_image(args.image, sess, **image_options(args))
        outputs = sess.run(None, {sess.input_names[0]: x})
    except (RuntimeError, ValueError) as e:
        sys.exit("infer: %s" % e)
    names = read_class_names(args.labels) if args.labels else []

    inp = sess.get_inputs()[0]
    print("model: %s (%s)" % (args.model, sess.kind))
    print("input: %s %s %s" % (inp.name, inp.type, "x".join(str(d) for d in x.shape)))
    out_name = sess.output_names[0]
    prob = probabilities(outputs[0])
    print("top-%d of '%s' (%d classes):" % (args.topk, out_name, prob.size))
    for rank, c in enumerate(top_k(prob, args.topk), 1):
        name = names[c] if c < len(names) else ""
        print("  %d  class %4d  %.4f  %s" % (rank, c, prob[c], name))


if __name__ == "__main__":
    main()
