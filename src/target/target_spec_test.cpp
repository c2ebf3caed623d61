// Spec loader: a good spec, the built-in specs, one case per malformed-spec class, limit
// checks with the exact reason texts the checker prints, and docs/targets.md being current.
#include "target/target_spec.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "ops/registry.h"
#include "target/spec_doc.h"

namespace qmap {
namespace {

// Only ops every IR has (Relu is the registry's pattern op) so these tests do not depend on
// which op families are merged.
constexpr const char* kGood = R"(
name: tiny
description: A test march.
cost_model: {clock_mhz: 500, int8_macs_per_cycle: 256, ddr_bandwidth_gbps: 4.5, sram_kib: 512,
             cpu_gflops: 10, subgraph_switch_us: 0}
npu_defaults:
  rank: {max: 4}
  dtype: {in: [float32]}
npu_ops:
  Relu:
    note: why
    kernel: {max: [7, 7], min: 1}
    group: {in: [1, in_channels]}
    rank: {max: 5}
)";

TEST(TargetSpec, ParsesGoodSpec) {
  Result<TargetSpec> r = parse_target_spec(kGood, "tiny.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const TargetSpec& s = *r;
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.cost.clock_mhz, 500);
  EXPECT_EQ(s.cost.int8_macs_per_cycle, 256);
  EXPECT_DOUBLE_EQ(s.cost.ddr_bandwidth_gbps, 4.5);
  EXPECT_EQ(s.cost.sram_kib, 512);
  ASSERT_EQ(s.npu_ops.size(), 1u);
  const NpuOpRule& relu = s.npu_ops[0];
  EXPECT_EQ(relu.op, OpId::Relu);
  EXPECT_EQ(relu.note, "why");
  ASSERT_EQ(relu.limits.size(), 4u);
  EXPECT_EQ(limit_str(relu.limits[0]), "max 7x7");
  EXPECT_EQ(limit_str(relu.limits[1]), "min 1");
  EXPECT_EQ(limit_str(relu.limits[2]), "in {1, in_channels}");
  EXPECT_EQ(s.npu_rule(OpId::Relu), &relu);
  EXPECT_FALSE(s.is_cpu_op(OpId::Relu));
  // The op's own rank limit replaces the default; dtype stays; defaults come first.
  const std::vector<Limit> eff = s.effective_limits(relu);
  ASSERT_EQ(eff.size(), 5u);
  EXPECT_EQ(eff[0].param, "dtype");
  EXPECT_EQ(limit_str(eff[4]), "max 5");
}

struct BadSpec {
  const char* what;
  std::string yaml;
  std::vector<std::string> expect;  // substrings of the error
};

std::string with_ops(const std::string& npu_ops, const std::string& extra = "") {
  return "name: t\ndescription: d\ncost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, "
         "sram_kib: 1, cpu_gflops: 1, subgraph_switch_us: 1}\nnpu_ops:\n" + npu_ops + extra;
}

// A valid spec with one more cost_model key.
std::string with_cost(const std::string& key) {
  return "name: t\ndescription: d\ncost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, "
         "sram_kib: 1, cpu_gflops: 1, subgraph_switch_us: 1, " + key + "}\nnpu_ops: {}\n";
}

TEST(TargetSpec, RejectsEachMalformedClass) {
  const std::vector<BadSpec> cases = {
      {"yaml syntax", "name: [unclosed", {"bad.yaml", "invalid YAML"}},
      {"not a map", "- a\n- b", {"bad.yaml", "must be a YAML map"}},
      {"unknown top-level key", with_ops("  Relu:\n", "colour: red\n"),
       {"key 'colour' (line 6)", "unknown key: allowed keys are name, description"}},
      {"missing key", "name: t\ndescription: d\nnpu_ops: {}\n", {"missing key 'cost_model'"}},
      {"unknown op", with_ops("  Relu:\n  Covn:\n"),
       {"key 'npu_ops.Covn' (line 6)", "unknown op 'Covn'", "not an op of the qmap IR"}},
      {"unknown parameter", with_ops("  Relu:\n    kernal: {max: 3}\n"),
       {"key 'npu_ops.Relu.kernal' (line 6)", "unknown parameter: known are kernel, stride"}},
      {"unknown limit kind", with_ops("  Relu:\n    kernel: {below: 3}\n"),
       {"key 'npu_ops.Relu.kernel.below'", "unknown limit kind: allowed kinds are max, min, in, one_of"}},
      {"wrong type", with_ops("  Relu:\n    kernel: {max: seven}\n"),
       {"key 'npu_ops.Relu.kernel.max'", "'seven' must be an integer"}},
      {"wrong type in list", with_ops("  Relu:\n    kernel: {max: [7, 7.5]}\n"),
       {"key 'npu_ops.Relu.kernel.max[1]'", "'7.5' must be an integer"}},
      {"max on text", with_ops("  Relu:\n    mode: {max: 3}\n"), {"'mode' is a text parameter: use in or one_of"}},
      {"bad reference", with_ops("  Relu:\n    group: {in: [1, in_chanels]}\n"),
       {"key 'npu_ops.Relu.group.in[1]'", "'in_chanels' is neither an integer nor an integer parameter name"}},
      {"unknown dtype", with_ops("  Relu:\n    dtype: {in: [float16]}\n"), {"unknown dtype 'float16'"}},
      {"empty limits", with_ops("  Relu:\n    kernel: {}\n"), {"needs at least one limit"}},
      {"empty set", with_ops("  Relu:\n    stride: {in: []}\n"), {"must be a non-empty list"}},
      {"duplicate key", with_ops("  Relu:\n  Relu:\n"), {"key 'npu_ops.Relu'", "duplicate key"}},
      {"npu and cpu", with_ops("  Relu:\n", "cpu_ops:\n  Relu: why\n"),
       {"key 'cpu_ops.Relu'", "also listed in npu_ops"}},
      {"negative cost", "name: t\ndescription: d\ncost_model: {clock_mhz: -1, int8_macs_per_cycle: 1, "
                        "ddr_bandwidth_gbps: 1, sram_kib: 1, cpu_gflops: 1, subgraph_switch_us: 1}\nnpu_ops: {}\n",
       {"key 'cost_model.clock_mhz'", "must be > 0"}},
      {"missing cost key", "name: t\ndescription: d\ncost_model: {clock_mhz: 1}\nnpu_ops: {}\n",
       {"missing key 'int8_macs_per_cycle'"}},
      {"zero conv_pixel_vector", with_cost("conv_pixel_vector: 0"), {"key 'cost_model.conv_pixel_vector'", "must be > 0"}},
      {"fractional conv_pixel_vector", with_cost("conv_pixel_vector: 7.5"),
       {"key 'cost_model.conv_pixel_vector'", "'7.5' must be an integer"}},
      {"conv_row_halo not a bool", with_cost("conv_row_halo: sometimes"),
       {"key 'cost_model.conv_row_halo'", "'sometimes' must be true or false"}},
      {"negative move_run_cycles", with_cost("move_run_cycles: -2"),
       {"key 'cost_model.move_run_cycles'", "-2 must be >= 0"}},
      {"bad name", "name: My Npu\ndescription: d\ncost_model: {}\nnpu_ops: {}\n",
       {"key 'name'", "must be lower-case letters"}},
      {"npu_ops not a map", with_ops("  - Relu\n"), {"key 'npu_ops'", "must be a map"}},
      {"NPU op without an integer form", with_ops("  Relu:\n  ConvTranspose:\n    kernel: {max: 4}\n"),
       {"key 'npu_ops.ConvTranspose' (line 6)",
        "ConvTranspose has no integer lowering in qmap, so it cannot run on the NPU: list it under cpu_ops"}},
      {"NPU op without an integer form (float only)", with_ops("  Softmax:\n"),
       {"key 'npu_ops.Softmax'", "Softmax has no integer lowering in qmap"}},
  };
  for (const BadSpec& c : cases) {
    Result<TargetSpec> r = parse_target_spec(c.yaml, "bad.yaml");
    ASSERT_FALSE(r.ok()) << c.what;
    const std::string msg = r.status().message();  // status() is a copy
    EXPECT_EQ(msg.rfind("target spec 'bad.yaml'", 0), 0u) << c.what << ": " << msg;
    for (const std::string& e : c.expect) EXPECT_NE(msg.find(e), std::string::npos) << c.what << ": " << msg;
  }
}

TEST(TargetSpec, UnregisteredOpsOnlyWhenAllowed) {
  const std::string yaml = with_ops("  Relu:\n  FutureOp:\n");
  EXPECT_FALSE(parse_target_spec(yaml, "x.yaml").ok());
  Result<TargetSpec> r = parse_target_spec(yaml, "x.yaml", SpecLoadOptions{.require_registered_ops = false});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->npu_ops[1].name, "FutureOp");
}

OpParams params(std::initializer_list<OpParam> p) { return OpParams(p); }

Limit parse_limit(const std::string& param, const std::string& body) {
  Result<TargetSpec> r = parse_target_spec(with_ops("  Relu:\n    " + param + ": " + body + "\n"), "l.yaml");
  QMAP_CHECK(r.ok(), "{}", r.status().message());
  return r->npu_ops[0].limits.at(0);
}

TEST(TargetSpec, LimitReasons) {
  const Limit kernel = parse_limit("kernel", "{max: [7, 7]}");
  EXPECT_EQ(check_limit(kernel, params({{"kernel", {3, 3}, ""}})), std::nullopt);
  EXPECT_EQ(check_limit(kernel, params({{"kernel", {9, 9}, ""}})), "kernel 9x9 > 7x7");
  EXPECT_EQ(check_limit(kernel, params({{"kernel", {3, 9}, ""}})), "kernel 3x9 > 7x7");
  EXPECT_EQ(check_limit(kernel, params({{"kernel", {3, 3, 3}, ""}})), "kernel 3x3x3 has 3 values, limit max 7x7 has 2");
  EXPECT_EQ(check_limit(kernel, params({{"stride", {1, 1}, ""}})), "kernel not reported by the op (limit max 7x7)");

  const Limit one_bound = parse_limit("kernel", "{max: 7}");
  EXPECT_EQ(check_limit(one_bound, params({{"kernel", {9, 9}, ""}})), "kernel 9x9 > 7x7");
  const Limit min = parse_limit("kernel", "{min: 2}");
  EXPECT_EQ(check_limit(min, params({{"kernel", {1}, ""}})), "kernel 1 < 2");

  const Limit stride = parse_limit("stride", "{in: [1, 2]}");
  EXPECT_EQ(check_limit(stride, params({{"stride", {2, 1}, ""}})), std::nullopt);
  EXPECT_EQ(check_limit(stride, params({{"stride", {3}, ""}})), "stride 3 not in {1, 2}");
  EXPECT_EQ(check_limit(stride, params({{"stride", {1, 3}, ""}})), "stride 1x3: 3 not in {1, 2}");

  const Limit ch = parse_limit("in_channels", "{max: 2048}");
  EXPECT_EQ(check_limit(ch, params({{"in_channels", {4096}, ""}})), "in_channels 4096 > 2048");

  const Limit bc = parse_limit("broadcast", "{in: [none, scalar, channel]}");
  EXPECT_EQ(check_limit(bc, params({{"broadcast", {}, "channel"}})), std::nullopt);
  EXPECT_EQ(check_limit(bc, params({{"broadcast", {}, "general"}})), "broadcast general not in {none, scalar, channel}");

  // Depthwise: group may equal the node's own in_channels.
  const Limit group = parse_limit("group", "{in: [1, in_channels]}");
  EXPECT_EQ(check_limit(group, params({{"group", {32}, ""}, {"in_channels", {32}, ""}})), std::nullopt);
  EXPECT_EQ(check_limit(group, params({{"group", {1}, ""}, {"in_channels", {32}, ""}})), std::nullopt);
  EXPECT_EQ(check_limit(group, params({{"group", {4}, ""}, {"in_channels", {32}, ""}})),
            "group 4 not in {1, in_channels=32}");
  EXPECT_EQ(check_limit(group, params({{"group", {4}, ""}})), "group 4 not in {1, in_channels}");

  const Limit perm = parse_limit("perm", "{one_of: [[0, 2, 3, 1], [0, 3, 1, 2]]}");
  EXPECT_EQ(check_limit(perm, params({{"perm", {0, 2, 3, 1}, ""}})), std::nullopt);
  EXPECT_EQ(check_limit(perm, params({{"perm", {0, 2, 1, 3}, ""}})),
            "perm [0, 2, 1, 3] not one of {[0, 2, 3, 1], [0, 3, 1, 2]}");

  // Generic parameters appear once per tensor; every one must pass.
  const Limit rank = parse_limit("rank", "{max: 4}");
  EXPECT_EQ(check_limit(rank, params({{"rank", {4}, ""}, {"rank", {5}, ""}})), "rank 5 > 4");
  const Limit dtype = parse_limit("dtype", "{in: [float32]}");
  EXPECT_EQ(check_limit(dtype, params({{"dtype", {}, "float32"}, {"dtype", {}, "int64"}})),
            "dtype int64 not in {float32}");
}

TEST(TargetSpec, BuiltInsAndPaths) {
  const std::vector<std::string> names = embedded_target_names();
  ASSERT_NE(std::find(names.begin(), names.end(), "generic"), names.end());
  Result<TargetSpec> unknown = load_target_spec("nosuch");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("march 'nosuch': unknown: built-in marches are bayes, bayes-e, bernoulli2, generic, nash-e, nash-p"),
            std::string::npos)
      << unknown.status().message();

  const std::string path = std::string(QMAP_BINARY_DIR) + "/tiny_spec_test.yaml";
  ASSERT_TRUE(write_file_atomic(path, kGood).ok());
  Result<TargetSpec> from_file = load_target_spec(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_EQ(from_file->source, path);
  Result<TargetSpec> missing = load_target_spec(std::string(QMAP_BINARY_DIR) + "/missing.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().rfind("target spec: ", 0), 0u) << missing.status().message();
}

// Every built-in spec is valid apart from naming ops; then, once every op it names is in the
// IR, valid outright. The skip names the missing ops so it cannot go unnoticed.
TEST(TargetSpec, BuiltInSpecsAreValid) {
  std::vector<std::string> missing;
  for (const std::string& name : embedded_target_names()) {
    Result<TargetSpec> relaxed = load_target_spec(name, SpecLoadOptions{.require_registered_ops = false});
    ASSERT_TRUE(relaxed.ok()) << relaxed.status().message();
    for (const auto& r : relaxed->npu_ops)
      if (!op_by_name(r.name)) missing.push_back(name + ":" + r.name);
    for (const auto& r : relaxed->cpu_ops)
      if (!op_by_name(r.name)) missing.push_back(name + ":" + r.name);
    if (missing.empty()) {
      Result<TargetSpec> strict = load_target_spec(name);
      EXPECT_TRUE(strict.ok()) << strict.status().message();
    }
  }
  if (!missing.empty()) {
    std::ostringstream os;
    for (const auto& m : missing) os << m << " ";
    GTEST_SKIP() << "ops not in the IR yet: " << os.str();
  }
}

// The Horizon marches hb_mapper configs name are built in; each says plainly that it is a
// model of that NPU's published constraints (not a compiler for it) and cites its sources.
TEST(TargetSpec, HorizonMarchesAreBuiltInModels) {
  for (const char* march : {"bernoulli2", "bayes", "bayes-e", "nash-e", "nash-p"}) {
    const std::optional<std::string_view> text = embedded_target_text(march);
    ASSERT_TRUE(text.has_value()) << march << " is not built in";
    EXPECT_NE(text->find("# Sources"), std::string_view::npos) << march;
    EXPECT_NE(text->find("https://"), std::string_view::npos) << march;
    Result<TargetSpec> spec = load_target_spec(march, SpecLoadOptions{.require_registered_ops = false});
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    EXPECT_NE(spec->description.find("not a bit-exact compiler for this NPU"), std::string::npos) << march;
    // Convolutions run on the NPU and Softmax stays on the CPU on every one of them.
    EXPECT_NE(spec->npu_rule(OpId::Conv), nullptr) << march;
    EXPECT_TRUE(spec->is_cpu_op(OpId::Softmax)) << march;
  }
  // Each cost model reproduces its NPU's headline int8 TOPS (X3 5, X5 10, J5 128, S100 80, S600 560).
  const auto tops = [](const char* march) {
    const Result<TargetSpec> s = load_target_spec(march, SpecLoadOptions{.require_registered_ops = false});
    return s.ok() ? s->cost.clock_mhz * static_cast<double>(s->cost.int8_macs_per_cycle) * 2e-6 : -1.0;
  };
  EXPECT_NEAR(tops("bernoulli2"), 5.12, 1e-9);
  EXPECT_NEAR(tops("bayes-e"), 10, 1e-9);
  EXPECT_NEAR(tops("bayes"), 128, 1e-9);
  EXPECT_NEAR(tops("nash-e"), 80, 1e-9);
  EXPECT_NEAR(tops("nash-p"), 560, 1e-9);
}

// docs/targets.md must be what `qmap checker --print-spec-md` prints today.
TEST(TargetSpec, DocsAreCurrent) {
  std::vector<TargetSpec> specs;
  for (const std::string& name : embedded_target_names()) {
    Result<TargetSpec> s = load_target_spec(name, SpecLoadOptions{.require_registered_ops = false});
    ASSERT_TRUE(s.ok()) << s.status().message();
    specs.push_back(std::move(*s));
  }
  Result<std::string> committed = read_file(std::string(QMAP_SOURCE_DIR) + "/docs/targets.md");
  ASSERT_TRUE(committed.ok()) << committed.status().message();
  EXPECT_TRUE(*committed == targets_markdown(specs))
      << "docs/targets.md is stale: run `qmap checker --print-spec-md > docs/targets.md`";
}

}  // namespace
}  // namespace qmap
