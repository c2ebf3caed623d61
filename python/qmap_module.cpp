// The `qmap._qmap` extension (re-exported by python/qmap/__init__.py): qmap.Session with
// the ONNX Runtime InferenceSession surface (get_inputs/get_outputs/run, NodeArg-like
// name/shape/type), and qmap.load_image, which runs the project's own C++ image pipeline so
// Python and `qmap infer` feed the same pixels.
//
// Errors: a failed Status becomes RuntimeError with its message; a bad feed or argument
// (wrong dtype, shape, name, size) is ValueError naming the input, what was expected and
// what was given. Arrays are copied in and out: numpy never aliases engine memory.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "image/decode.h"
#include "session/image_input.h"
#include "session/session.h"

namespace py = pybind11;

namespace {

using qmap::DType;

// ONNX Runtime's type strings (NodeArg.type), so code written for ORT compares the same.
const char* ort_type_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "tensor(float)";
    case DType::kFloat64: return "tensor(double)";
    case DType::kUInt8: return "tensor(uint8)";
    case DType::kInt8: return "tensor(int8)";
    case DType::kInt32: return "tensor(int32)";
    case DType::kInt64: return "tensor(int64)";
    case DType::kBool: return "tensor(bool)";
    default: return "tensor(undefined)";
  }
}

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::kFloat32: return py::dtype::of<float>();
    case DType::kFloat64: return py::dtype::of<double>();
    case DType::kUInt8: return py::dtype::of<uint8_t>();
    case DType::kInt8: return py::dtype::of<int8_t>();
    case DType::kInt32: return py::dtype::of<int32_t>();
    case DType::kInt64: return py::dtype::of<int64_t>();
    case DType::kBool: return py::dtype::of<bool>();
    default: throw std::runtime_error(std::string("qmap: tensor type ") + qmap::dtype_name(t) + " has no numpy equivalent");
  }
}

template <typename T>
T unwrap(qmap::Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().message());
  return std::move(r).value();
}

// "[1, 16, 16, 3]" with dynamic dims as "?" (ORT shows them as None or a symbol).
std::string shape_text(const qmap::Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return s + "]";
}

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// A numpy array owning a copy of the tensor (numpy never aliases engine memory).
py::array tensor_to_array(const qmap::Tensor& t) {
  std::vector<py::ssize_t> shape(t.dims().begin(), t.dims().end());
  py::array a(numpy_dtype(t.dtype()), shape);
  if (t.nbytes()) std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
  return a;
}

// What get_inputs()/get_outputs() return: ORT's NodeArg fields.
struct NodeArg {
  std::string name;
  py::list shape;  // ints; None for a dynamic dim (as ORT shows an unnamed one)
  std::string type;

  static NodeArg of(const qmap::IoInfo& io) {
    NodeArg a{io.name, py::list(), ort_type_name(io.dtype)};
    for (int64_t d : io.dims) a.shape.append(d < 0 ? py::object(py::none()) : py::object(py::int_(d)));
    return a;
  }
  std::string repr() const {
    return "NodeArg(name='" + name + "', type='" + type + "', shape=" + py::repr(shape).cast<std::string>() + ")";
  }
};

// Session with a lock: the engines are not reentrant, so concurrent run() calls on one
// object are serialized (use one Session per thread for parallelism; run releases the GIL).
class PySession {
 public:
  PySession(const py::object& path, int threads, bool profile = false,
            const std::vector<py::object>& custom_op_libs = {})
      : path_(py::str(py::module_::import("os").attr("fspath")(path))), profile_(profile) {
    if (threads < 0) throw py::value_error("Session: threads " + std::to_string(threads) + ": 0 (one per core) or more");
    std::vector<std::string> libs;
    for (const py::object& lib : custom_op_libs) libs.push_back(py::str(py::module_::import("os").attr("fspath")(lib)));
    session_ = unwrap(qmap::Session::open(path_, {.threads = threads, .profile = profile, .custom_op_libs = libs}));
    if (profile && session_->kind() != "bin")
      throw py::value_error("Session: profile=True: '" + path_ + "' is a " + session_->kind() +
                            " model; per-layer times come from the runtime (a .bin)");
  }

  // Per step: {"node", "kind", "kernel", "mean_us"}, the mean over the runs so far.
  py::list profile() {
    if (!profile_) throw py::value_error("Session.profile(): open the session with profile=True");
    std::vector<qmap::StepTime> steps;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      steps = session_->profile();
    }
    py::list out;
    for (const auto& s : steps) {
      py::dict d;
      d["node"] = s.node;
      d["kind"] = s.kind;
      d["kernel"] = s.kernel;
      d["mean_us"] = s.mean_us;
      out.append(d);
    }
    return out;
  }

  const std::string& path() const { return path_; }
  std::string kind() const { return session_->kind(); }
  std::string kernels() const { return session_->kernels(); }
  // Read-only uses (specs, io descriptions) need no lock: they never change after open().
  const qmap::Session& session() const { return *session_; }

  py::list get_inputs() const { return node_args(session_->inputs()); }
  py::list get_outputs() const { return node_args(session_->outputs()); }
  std::vector<std::string> input_names() const { return names(session_->inputs()); }
  std::vector<std::string> output_names() const { return names(session_->outputs()); }

  py::list run(const py::object& output_names, const py::dict& feed, const py::object& /*run_options*/) {
    const auto& ins = session_->inputs();
    const auto& outs = session_->outputs();
    // Outputs to return, by index; None or [] means all, as ORT does.
    std::vector<size_t> wanted;
    if (!output_names.is_none()) {
      for (const py::handle& h : output_names) {
        if (!py::isinstance<py::str>(h))
          throw py::value_error("output_names: expected strings, got " + py::repr(h).cast<std::string>());
        const std::string n = h.cast<std::string>();
        size_t k = 0;
        while (k < outs.size() && outs[k].name != n) ++k;
        if (k == outs.size())
          throw py::value_error("output '" + n + "': the model has no such output (outputs: " + join(names(outs)) + ")");
        wanted.push_back(k);
      }
    }
    if (wanted.empty())
      for (size_t k = 0; k < outs.size(); ++k) wanted.push_back(k);

    for (const auto& [key, _] : feed) {
      const std::string n = py::str(key);
      bool known = false;
      for (const auto& io : ins) known = known || io.name == n;
      if (!known) throw py::value_error("input '" + n + "': the model has no such input (inputs: " + join(names(ins)) + ")");
    }
    std::vector<qmap::Tensor> tensors;
    for (const auto& io : ins) {
      const py::str key(io.name);
      if (!feed.contains(key))
        throw py::value_error("input '" + io.name + "': missing from the feed (the model takes " + join(names(ins)) + ")");
      tensors.push_back(to_tensor(io, feed[key]));
    }

    // The engines run without the GIL (other Python threads go on); the lock is taken
    // after releasing the GIL so a thread waiting for it never blocks one holding it.
    std::optional<qmap::Result<std::vector<qmap::Tensor>>> r;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);
      r.emplace(session_->run(tensors));
    }
    const std::vector<qmap::Tensor> results = unwrap(std::move(*r));
    py::list out;
    for (size_t k : wanted) out.append(tensor_to_array(results.at(k)));
    return out;
  }

 private:
  static py::list node_args(const std::vector<qmap::IoInfo>& ios) {
    py::list l;
    for (const auto& io : ios) l.append(NodeArg::of(io));
    return l;
  }
  static std::vector<std::string> names(const std::vector<qmap::IoInfo>& ios) {
    std::vector<std::string> v;
    for (const auto& io : ios) v.push_back(io.name);
    return v;
  }
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  // Checks dtype and shape exactly (no silent casts: a float64 array for a float input is
  // an error, as in ORT), then copies the C-contiguous data into a Tensor.
  static qmap::Tensor to_tensor(const qmap::IoInfo& io, const py::handle& value) {
    const std::string expected = std::string(ort_type_name(io.dtype)) + " of shape " + shape_text(io.dims);
    if (!py::isinstance<py::array>(value))
      throw py::value_error("input '" + io.name + "': expected a numpy array (" + expected + "), got " +
                            std::string(py::str(value.get_type().attr("__name__"))));
    py::array a = py::array::ensure(value, py::array::c_style);
    const py::dtype want = numpy_dtype(io.dtype);
    bool shape_ok = a.ndim() == static_cast<py::ssize_t>(io.dims.size());
    for (size_t d = 0; shape_ok && d < io.dims.size(); ++d) shape_ok = io.dims[d] < 0 || io.dims[d] == a.shape(d);
    if (!a.dtype().equal(want) || !shape_ok)
      throw py::value_error("input '" + io.name + "': expected " + expected + " (numpy " +
                            py::str(static_cast<const py::object&>(want)).cast<std::string>() + "), got " + py::str(static_cast<py::object>(a.dtype())).cast<std::string>() +
                            " of shape " + shape_text(a));
    qmap::Dims dims(a.shape(), a.shape() + a.ndim());
    qmap::Tensor t = qmap::Tensor::uninitialized(io.dtype, dims);
    if (t.nbytes()) std::memcpy(t.raw(), a.data(), t.nbytes());
    return t;
  }


  std::string path_;
  std::unique_ptr<qmap::Session> session_;
  bool profile_ = false;
  std::mutex mu_;
};

// crop=224 or crop=(224, 200) -> {h, w}; None -> nullopt. Sizes must be positive.
std::optional<std::pair<int64_t, int64_t>> size_arg(const char* what, const py::object& o) {
  if (o.is_none()) return std::nullopt;
  std::pair<int64_t, int64_t> hw;
  try {
    if (py::isinstance<py::int_>(o)) {
      hw = {o.cast<int64_t>(), o.cast<int64_t>()};
    } else {
      const auto v = o.cast<std::vector<int64_t>>();
      if (v.size() != 2) throw py::cast_error();
      hw = {v[0], v[1]};
    }
  } catch (const py::cast_error&) {
    throw py::value_error(std::string(what) + "=" + py::repr(o).cast<std::string>() +
                          ": expected an int or a (height, width) pair");
  }
  if (hw.first <= 0 || hw.second <= 0)
    throw py::value_error(std::string(what) + "=" + py::repr(o).cast<std::string>() + ": sizes must be positive");
  return hw;
}

// mean=123.7 or mean=[123.675, 116.28, 103.53] -> a list of floats; None -> empty.
std::vector<float> floats_arg(const char* what, const py::object& o) {
  if (o.is_none()) return {};
  try {
    if (py::isinstance<py::float_>(o) || py::isinstance<py::int_>(o)) return {o.cast<float>()};
    return o.cast<std::vector<float>>();
  } catch (const py::cast_error&) {
    throw py::value_error(std::string(what) + "=" + py::repr(o).cast<std::string>() +
                          ": expected a number or one number per channel");
  }
}

// The transforms and, for a model without qmap metadata, how its float input was trained.
qmap::ImageInputOptions image_options(const PySession& s, const py::object& short_side, const py::object& crop,
                                      const py::object& resize, const py::object& color, const py::object& layout,
                                      const py::object& mean, const py::object& scale) {
  qmap::ImageInputOptions opt;
  if (!short_side.is_none()) {
    if (!py::isinstance<py::int_>(short_side) || short_side.cast<int64_t>() <= 0)
      throw py::value_error("short_side=" + py::repr(short_side).cast<std::string>() + ": expected a positive int");
    opt.transforms.short_side = short_side.cast<int64_t>();
  }
  if (const auto hw = size_arg("crop", crop)) std::tie(opt.transforms.crop_h, opt.transforms.crop_w) = *hw;
  if (const auto hw = size_arg("resize", resize)) std::tie(opt.transforms.resize_h, opt.transforms.resize_w) = *hw;
  const bool plain_args = !color.is_none() || !layout.is_none() || !mean.is_none() || !scale.is_none();
  if (plain_args && !s.session().input_specs().empty())
    throw py::value_error("load_image: model '" + s.path() +
                          "' stores its input_parameters (made by qmap makertbin): color, layout, mean and scale "
                          "apply only to models without them");
  if (!color.is_none()) {
    const auto c = qmap::parse_color_type(py::str(color));
    if (!c || (*c != qmap::ColorType::kRgb && *c != qmap::ColorType::kBgr && *c != qmap::ColorType::kGray))
      throw py::value_error("color=" + py::repr(color).cast<std::string>() + ": expected 'rgb', 'bgr' or 'gray'");
    opt.color = *c;
  }
  if (!layout.is_none()) {
    const auto l = qmap::parse_layout(py::str(layout));
    if (!l) throw py::value_error("layout=" + py::repr(layout).cast<std::string>() + ": expected 'NCHW' or 'NHWC'");
    opt.layout = *l;
  }
  opt.mean = floats_arg("mean", mean);
  opt.scale = floats_arg("scale", scale);
  return opt;
}

// Index of the input load_image fills: the named one, or the model's only image input.
size_t pick_input(const PySession& s, const std::vector<qmap::InputSpec>& specs, const py::object& input_name) {
  std::vector<size_t> images;
  std::string listed;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].is_image()) images.push_back(i);
    listed += (listed.empty() ? "" : ", ") + specs[i].name;
  }
  if (!input_name.is_none()) {
    const std::string want = py::str(input_name);
    for (size_t i = 0; i < specs.size(); ++i)
      if (specs[i].name == want) return i;  // a featuremap input is reported by the C++ side
    throw py::value_error("load_image: input_name '" + want + "': the model has no such input (inputs: " + listed + ")");
  }
  if (images.size() != 1)
    throw py::value_error("load_image: model '" + s.path() + "' has " + std::to_string(images.size()) +
                          " image inputs (inputs: " + listed + "): pass input_name");
  return images.front();
}

py::array load_image(const py::object& path_obj, const py::object& model, const py::object& short_side,
                     const py::object& crop, const py::object& resize, const py::object& input_name,
                     const py::object& color, const py::object& layout, const py::object& mean,
                     const py::object& scale) {
  std::shared_ptr<PySession> owned;
  const PySession* s = nullptr;
  if (py::isinstance<PySession>(model)) {
    s = &model.cast<const PySession&>();
  } else {
    owned = std::make_shared<PySession>(model, 1);
    s = owned.get();
  }
  const std::string path = py::str(py::module_::import("os").attr("fspath")(path_obj));
  const qmap::ImageInputOptions opt = image_options(*s, short_side, crop, resize, color, layout, mean, scale);
  // The model's stored input_parameters, or (a plain model) every 4-D input as an image in
  // color/layout normalized with mean/scale: the rules of `qmap infer`.
  const std::vector<qmap::InputSpec> specs = qmap::input_specs_for(s->session(), {}, opt);
  const size_t k = pick_input(*s, specs, input_name);

  std::optional<qmap::Result<qmap::Tensor>> result;
  {
    py::gil_scoped_release nogil;
    result.emplace([&]() -> qmap::Result<qmap::Tensor> {
      QMAP_ASSIGN_OR_RETURN(qmap::Image img, qmap::read_image(path));
      auto t = qmap::image_to_model_input(img, specs[k], s->session().inputs()[k], opt);
      if (!t.ok()) return t.status().with_context("image '" + path + "': ");
      return t;
    }());
  }
  if (!result->ok()) throw std::runtime_error("load_image: " + result->status().message());
  return tensor_to_array(result->value());
}

}  // namespace

PYBIND11_MODULE(_qmap, m) {
  m.doc() = "qmap: run float, quantized and deployable qmap models from Python (numpy in, numpy out)";
  m.attr("__version__") = QMAP_VERSION_STRING;

  py::class_<NodeArg>(m, "NodeArg", "A model input or output, as ONNX Runtime's NodeArg")
      .def_readonly("name", &NodeArg::name)
      .def_readonly("shape", &NodeArg::shape)
      .def_readonly("type", &NodeArg::type, "ONNX Runtime's type string: 'tensor(uint8)', 'tensor(float)', ...")
      .def("__repr__", &NodeArg::repr);

  py::class_<PySession>(m, "Session", R"doc(
A loaded model: .onnx (float or quantized, as written by `qmap makertbin`) or .bin.

    sess = qmap.Session("model_output/tiny_quantized_model.onnx")
    out, = sess.run(None, {sess.input_names[0]: x})
    fast = qmap.Session("model_output/tiny.bin", threads=2)   # .bin: intra-op threads
    fast.kernels                                             # 'avx512vnni' (QMAP_ISA selects)
    qmap.Session("model_output/norm.bin", custom_op_libs=["./libqmap_normalize.so"])  # custom ops

Raises RuntimeError when the file cannot be loaded (the message names the file and the rule).)doc")
      .def(py::init<const py::object&, int, bool, const std::vector<py::object>&>(), py::arg("path"),
           py::arg("threads") = 1, py::arg("profile") = false, py::arg("custom_op_libs") = std::vector<py::object>{},
           "custom_op_libs: plugin libraries (.so) providing the model's custom ops (docs/custom-op.md)")
      .def("profile", &PySession::profile,
           "per step of a .bin opened with profile=True: a dict {node, kind, kernel, mean_us} with the mean wall time over "
           "the runs so far")
      .def_property_readonly("path", &PySession::path)
      .def_property_readonly("kind", &PySession::kind, "'float onnx', 'quantized onnx' or 'bin'")
      .def_property_readonly("kernels", &PySession::kernels,
                             "what computes: a .bin's kernel level ('ref', 'avx2', 'avxvnni', 'avx512vnni'; QMAP_ISA selects), "
                             "'float engine' or 'integer simulator (ref)'")
      .def_property_readonly("input_names", &PySession::input_names)
      .def_property_readonly("output_names", &PySession::output_names)
      .def("get_inputs", &PySession::get_inputs)
      .def("get_outputs", &PySession::get_outputs)
      .def("run", &PySession::run, py::arg("output_names"), py::arg("input_feed"), py::arg("run_options") = py::none(),
           R"doc(Runs the model. output_names: list of names, or None for all outputs (in model order).
input_feed: {input name: numpy array} with exactly the input's dtype and shape (ValueError otherwise).
Returns a list of numpy arrays, one per requested output. run_options is accepted for
ONNX Runtime compatibility and ignored.)doc")
      .def("__repr__", [](const PySession& s) { return "<qmap.Session " + s.kind() + " '" + s.path() + "'>"; });

  m.def("load_image", &load_image, py::arg("path"), py::arg("model"), py::arg("short_side") = py::none(),
        py::arg("crop") = py::none(), py::arg("resize") = py::none(), py::arg("input_name") = py::none(),
        py::arg("color") = py::none(), py::arg("layout") = py::none(), py::arg("mean") = py::none(),
        py::arg("scale") = py::none(),
        R"doc(Reads an image file into the input array of `model` (a Session or a model path).

Decodes (JPEG/PNG/BMP), then optionally resizes the short side to `short_side`, resizes to
`resize` (int or (h, w)) and center-crops to `crop` (int or (h, w)) -- the order of
`qmap preprocess` -- then resizes to the model's H x W and converts as the model's stored
input_parameters say (input_type_rt, input_layout_rt, uint8): the pixels `qmap infer` feeds.
A model without them (not made by qmap makertbin) takes the image in `color` ('rgb', 'bgr',
'gray'; default rgb) and `layout` ('NCHW' default, 'NHWC'), as (x - mean) * scale in float32
for a float input. Raises RuntimeError for an unreadable image or an input the image cannot
feed, ValueError for bad arguments.)doc");
}
