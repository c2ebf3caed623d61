// TEMPORARY (not committed): runs the dumped ONNX node test cases.
#include <filesystem>
#include <fstream>
#include "test_util.h"
#include "ops/registry.h"
namespace qmap {
namespace {
Tensor load(const std::string& base) {
  std::ifstream h(base + ".txt");
  int code, nd; h >> code >> nd; Dims d(nd); for (auto& v : d) h >> v;
  DType t; dtype_from_onnx(code, &t);
  Tensor x(t, d);
  std::ifstream b(base + ".bin", std::ios::binary);
  b.read(reinterpret_cast<char*>(x.raw()), static_cast<std::streamsize>(x.nbytes()));
  return x;
}
TEST(TmpConformance, All) {
  for (auto& e : std::filesystem::directory_iterator("/tmp/qmap_conf/cases")) {
    std::string dir = e.path().string(), name = e.path().filename().string();
    std::ifstream s(dir + "/spec.txt");
    std::string op; int ni, no, na; s >> op >> ni >> no >> na;
    std::map<std::string, AttrValue> attrs;
    for (int i = 0; i < na; ++i) {
      std::string k, t; s >> k >> t;
      if (t == "i") { int64_t v; s >> v; attrs[k] = v; }
      else if (t == "f") { float v; s >> v; attrs[k] = v; }
      else if (t == "s") { std::string v; s >> v; attrs[k] = v; }
      else { int c; s >> c; std::vector<int64_t> v(c); for (auto& x : v) s >> x; attrs[k] = v; }
    }
    if (attrs.count("is_test") || attrs.count("broadcast")) {
      Graph g; Node n; n.name = "x"; n.op_type = op; n.attrs = attrs; n.outputs = {0};
      g.add_value("y");
      std::vector<Node> nodes{n};
      const OpDef& def = op_def(*op_by_name(op));
      auto st = def.upgrade_onnx(g, 6, nodes);
      if (!st.ok()) { std::printf("UPGRADE-FAIL %s %s\n", name.c_str(), st.message().c_str()); continue; }
      attrs = nodes[0].attrs;
    }
    std::vector<Tensor> ins; for (int i = 0; i < ni; ++i) ins.push_back(load(dir + "/in" + std::to_string(i)));
    std::vector<const Tensor*> ptrs; for (auto& t : ins) ptrs.push_back(&t);
    auto out = testing::run_op(op, ptrs, attrs, no);
    if (!out.ok()) { std::printf("REJECT %s: %s\n", name.c_str(), out.status().message().c_str()); continue; }
    bool good = true;
    for (int i = 0; i < no; ++i) {
      Tensor want = load(dir + "/out" + std::to_string(i));
      auto r = testing::tensors_near((*out)[i], want, 1e-5, 1e-5);
      if (!r) { good = false; std::printf("FAIL %s out %d: %s\n", name.c_str(), i, r.message()); }
    }
    if (good) std::printf("PASS %s\n", name.c_str());
  }
}
}
}
