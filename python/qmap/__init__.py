"""qmap from Python: run the models `qmap makertbin` writes, with numpy arrays in and out.

The API follows ONNX Runtime's InferenceSession (and hb_mapper's HB_ONNXRuntime), so
existing evaluation code ports by changing the constructor:

    import qmap
    sess = qmap.Session("model_output/mobilenetv2_quantized_model.onnx")
    x = qmap.load_image("zebra.jpg", sess, short_side=256, crop=224)  # uint8 NHWC, as the device
    logits, = sess.run(None, {sess.input_names[0]: x})

Session(path)          .onnx (float or quantized) or .bin; .kind says which
Session.get_inputs()   NodeArg objects: .name, .shape, .type ("tensor(uint8)", ...)
Session.run(names, feed)  names None -> every output; ValueError for a bad feed
load_image(path, model, short_side=None, crop=None, resize=None, input_name=None,
           color=None, layout=None, mean=None, scale=None)   # the last four: models without qmap metadata

Errors from the C++ side are RuntimeError with qmap's one-line message.
"""
from ._qmap import NodeArg, Session, __version__, load_image

__all__ = ["NodeArg", "Session", "load_image", "__version__"]
