// eval and its parts: classifier helpers, class-name files, labeled image sets (both
// layouts, bad lines), jobs resolution, determinism over --jobs, the REPORT block and JSON.
#include "session/eval.h"

#include <unistd.h>

#include <cmath>

#include <gtest/gtest.h>

#include "session/classify.h"
#include "session/labeled_images.h"
#include "session/session_test_util.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::process_test_dir("session_eval_test") + "/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// --- classify ---

TEST(SessionClassifyTest, ClassifierShapes) {
  EXPECT_TRUE(is_classifier_output({1, 10}));
  EXPECT_TRUE(is_classifier_output({1, 1000, 1, 1}));
  EXPECT_FALSE(is_classifier_output({1, 1}));
  EXPECT_FALSE(is_classifier_output({2, 10}));
  EXPECT_FALSE(is_classifier_output({1, 8, 4, 4}));
  auto e = classifier_scores(Tensor(DType::kFloat32, {1, 8, 4, 4}), "feat");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "classify: output 'feat' has shape 1x8x4x4: a classifier output is 1xC or 1xCx1x1");
}

TEST(SessionClassifyTest, SoftmaxUnlessAlreadyADistribution) {
  // Logits 0 and ln 2: softmax = 1/3, 2/3.
  const auto p = to_probabilities({0.0, std::log(2.0)});
  EXPECT_NEAR(p[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(p[1], 2.0 / 3, 1e-12);
  // A softmax output (sums to 1 within 1e-3) is kept as it is.
  EXPECT_EQ(to_probabilities({0.2, 0.3, 0.5004}), (std::vector<double>{0.2, 0.3, 0.5004}));
  // Sums to 1 but has a negative score: logits, so softmax.
  EXPECT_NE(to_probabilities({-0.5, 1.5})[0], -0.5);
}

TEST(SessionClassifyTest, TopKBreaksTiesByIndexAndClampsK) {
  EXPECT_EQ(top_k({0.1, 0.5, 0.5, 0.9, NAN}, 3), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(top_k({0.1, 0.5}, 5), (std::vector<int64_t>{1, 0}));
}

TEST(SessionClassifyTest, ClassNamesPlainAndSynset) {
  const std::string d = fresh_dir("names");
  write_text(d + "/synset.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish\r\n");
  write_text(d + "/plain.txt", "cat\n\ndog\n");
  auto s = read_class_names(d + "/synset.txt");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (std::vector<std::string>{"tench, Tinca tinca", "goldfish"}));
  auto p = read_class_names(d + "/plain.txt");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (std::vector<std::string>{"cat", "", "dog"}));
  EXPECT_FALSE(read_class_names(d + "/missing.txt").ok());
}

// --- labeled image sets ---

TEST(SessionLabelsTest, LabelsFileInFileOrderWithLimit) {
  const std::string d = fresh_dir("labels_ok");
  for (const char* n : {"b.png", "a b.png", "c.png"}) testing::write_png(d + "/" + n, 8, 8, 1);
  write_text(d + "/val.txt", "# ImageNet style\nb.png 3\n\na b.png 0\nc.png 12\n");
  auto set = load_labeled_images(d, d + "/val.txt");
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->images.size(), 3u);
  EXPECT_EQ(set->images[0].path, d + "/b.png");
  EXPECT_EQ(set->images[0].label, 3);
  EXPECT_EQ(set->images[1].path, d + "/a b.png");  // the label is the last field
  EXPECT_EQ(set->images[2].label, 12);
  EXPECT_TRUE(set->class_names.empty());
  auto two = load_labeled_images(d, d + "/val.txt", 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->images.size(), 2u);
}

TEST(SessionLabelsTest, BadLinesNameTheFileAndLine) {
  const std::string d = fresh_dir("labels_bad");
  testing::write_png(d + "/a.png", 8, 8, 1);
  const std::string val = d + "/val.txt";
  struct Case {
    std::string text;
    int line;
    std::string what;
  };
  const std::vector<Case> cases{{"a.png 1\na.png cat\n", 2, "'a.png cat': expected '<image file> <label>'"},
                                {"a.png -1\n", 1, "non-negative integer label"},
                                {"\n\na.png\n", 3, "'a.png': expected"},
                                {"a.png 1\nmissing.png 2\n", 2, "image '" + d + "/missing.png' does not exist"}};
  for (const Case& c : cases) {
    const std::string& text = c.text;
    const int line = c.line;
    const std::string& what = c.what;
    write_text(val, text);
    auto r = load_labeled_images(d, val);
    ASSERT_FALSE(r.ok()) << text;
    const std::string msg = r.status().message();
    EXPECT_NE(msg.find("labels '" + val + "' line " + std::to_string(line) + ":"), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
  write_text(val, "# nothing\n");
  EXPECT_FALSE(load_labeled_images(d, val).ok());
}

TEST(SessionLabelsTest, ClassFoldersInSortedOrder) {
  const std::string d = fresh_dir("folders");
  testing::write_png(d + "/zebra/2.png", 8, 8, 1);
  testing::write_png(d + "/zebra/1.png", 8, 8, 2);
  testing::write_png(d + "/ant/x.png", 8, 8, 3);
  fs::create_directories(d + "/.hidden");
  testing::write_png(d + "/.hidden/h.png", 8, 8, 4);
  write_text(d + "/zebra/notes.txt", "not an image");
  auto set = load_labeled_images(d, "");
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->class_names, (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(set->images.size(), 3u);
  EXPECT_EQ(set->images[0].path, d + "/ant/x.png");
  EXPECT_EQ(set->images[0].label, 0);
  EXPECT_EQ(set->images[1].path, d + "/zebra/1.png");
  EXPECT_EQ(set->images[2].label, 1);
  const std::string empty = fresh_dir("no_classes");
  auto e = load_labeled_images(empty, "");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("no class sub-folders"), std::string::npos);
}

// --- eval ---

TEST(SessionEvalTest, JobsFromFlagThenEnvironment) {
  EXPECT_EQ(*resolve_eval_jobs(3, "7"), 3);
  EXPECT_EQ(*resolve_eval_jobs(0, "7"), 7);
  EXPECT_GE(*resolve_eval_jobs(0, nullptr), 1);
  EXPECT_GE(*resolve_eval_jobs(0, ""), 1);
  auto bad = resolve_eval_jobs(0, "two");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "eval: PARALLEL_PROCESS_NUM 'two': expected a thread count from 1 to 1024");
  EXPECT_FALSE(resolve_eval_jobs(0, "0").ok());
}

TEST(SessionEvalTest, ReportBlockIsTheFirstModelsTop1Fraction) {
  EvalReport r;
  r.models.push_back({"a.onnx", "float onnx", "out", 9, 7, 9, {}});
  r.models.push_back({"b.onnx", "quantized onnx", "out", 9, 1, 2, {}});
  EXPECT_EQ(eval_report_block(r), "===REPORT-START{MAPPER-EVAL}===\n0.7778\n===REPORT-END{MAPPER-EVAL}===\n");
  const std::string table = eval_table(r);
  EXPECT_NE(table.find("77.78%"), std::string::npos) << table;
  EXPECT_NE(table.find("11.11%"), std::string::npos) << table;
}

// Exact sign-test values: 2 * sum_{i <= k} C(n, i) / 2^n.
TEST(SessionEvalTest, McNemarExactP) {
  EXPECT_EQ(mcnemar_exact_p(0, 0), 1.0);
  EXPECT_NEAR(mcnemar_exact_p(7, 2), 92.0 / 512.0, 1e-12);   // n 9: 2 * (1 + 9 + 36) / 2^9
  EXPECT_NEAR(mcnemar_exact_p(2, 7), 92.0 / 512.0, 1e-12);   // symmetric
  EXPECT_NEAR(mcnemar_exact_p(10, 0), 2.0 / 1024.0, 1e-15);  // n 10: 2 / 2^10
  EXPECT_EQ(mcnemar_exact_p(3, 3), 1.0);                      // 2 * P(X <= 3 | n 6) = 2 * 42 / 64, capped
  // Large n stays finite and exact enough: 5000 vs 5100 of 10100 discordant pairs.
  const double p = mcnemar_exact_p(5000, 5100);
  EXPECT_GT(p, 0.3);
  EXPECT_LT(p, 0.35);  // normal approximation: 2 * Phi(-49.5 / 50.25) = 0.325
}

// A class-folder set of 3 classes x 4 PNGs of different sizes.
std::string make_class_set() {
  const std::string d = fresh_dir("set");
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 4; ++i)
      testing::write_png(d + "/class" + std::to_string(c) + "/" + std::to_string(i) + ".png", 16 + 3 * i, 20 + c, 10 * c + i);
  return d;
}

TEST(SessionEvalTest, SameNumbersAndJsonForAnyJobs) {
  EvalOptions o;
  o.models = {testing::tiny_models().plain, testing::tiny_models().quantized};
  o.data_dir = make_class_set();
  o.image.mean = testing::kTinyMean;
  o.image.scale = testing::kTinyScale;
  o.progress = false;
  o.jobs = 1;
  auto one = run_eval(o);
  o.jobs = 2;
  auto two = run_eval(o);
  o.jobs = 3;
  auto three = run_eval(o);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_TRUE(two.ok() && three.ok());
  EXPECT_EQ(eval_json(*one), eval_json(*two));
  EXPECT_EQ(eval_json(*one), eval_json(*three));
  ASSERT_EQ(one->models.size(), 2u);
  EXPECT_EQ(one->models[0].kind, "float onnx");
  EXPECT_EQ(one->models[1].kind, "quantized onnx");
  for (const auto& m : one->models) {
    EXPECT_EQ(m.images, 12);
    EXPECT_LE(m.top1, m.top5);
    ASSERT_EQ(m.per_class.size(), 3u);
    EXPECT_EQ(m.per_class[2].name, "class2");
    EXPECT_EQ(m.per_class[2].images, 4);
  }
  EXPECT_NE(eval_json(*one).find("\"per_class\""), std::string::npos);
  // Against the first model: the float model is its own reference; the quantized one is close
  // to it (a tiny conv net at 8 bits keeps its output direction: cosine well above 0.9) but
  // not identical (quantization moves every logit).
  EXPECT_EQ(one->models[0].mean_cosine, 1.0);
  EXPECT_EQ(one->models[0].top1_agree, 12);
  EXPECT_GT(one->models[1].mean_cosine, 0.9);
  EXPECT_LT(one->models[1].mean_cosine, 1.0);
  EXPECT_LE(one->models[1].top1_agree, 12);
  EXPECT_NE(eval_table(*one).find("Cosine vs first"), std::string::npos);
  // Lost and gained images against the first: the top-1 counts differ by exactly their
  // difference, and the first model neither loses nor gains against itself.
  EXPECT_EQ(one->models[0].top1_lost, 0);
  EXPECT_EQ(one->models[0].top1_gained, 0);
  EXPECT_EQ(one->models[1].top1 - one->models[0].top1, one->models[1].top1_gained - one->models[1].top1_lost);
  EXPECT_EQ(one->models[1].top1_change_p, mcnemar_exact_p(one->models[1].top1_lost, one->models[1].top1_gained));
  EXPECT_NE(eval_json(*one).find("\"top1_change_p_vs_first\""), std::string::npos);
}

TEST(SessionEvalTest, LabelOffsetShiftsEveryLabel) {
  // Labels 0..8 with offset 1 are scored as outputs 1..9 of the 10-class model: the same
  // images with the shifted labels written to the file give the same numbers.
  const std::string d = fresh_dir("label_offset");
  std::string plain, shifted;
  for (int i = 0; i < 9; ++i) {
    testing::write_png(d + "/" + std::to_string(i) + ".png", 16, 16, 7 * i + 1);
    plain += fmt::format("{}.png {}\n", i, i);
    shifted += fmt::format("{}.png {}\n", i, i + 1);
  }
  write_text(d + "/plain.txt", plain);
  write_text(d + "/shifted.txt", shifted);
  EvalOptions o;
  o.models = {testing::tiny_models().plain};
  o.image.mean = testing::kTinyMean;
  o.image.scale = testing::kTinyScale;
  o.progress = false;
  o.data_dir = d;
  o.labels_file = d + "/plain.txt";
  o.label_offset = 1;
  auto with_offset = run_eval(o);
  o.labels_file = d + "/shifted.txt";
  o.label_offset = 0;
  auto pre_shifted = run_eval(o);
  ASSERT_TRUE(with_offset.ok()) << with_offset.status().message();
  ASSERT_TRUE(pre_shifted.ok());
  EXPECT_EQ(with_offset->models[0].top1, pre_shifted->models[0].top1);
  EXPECT_EQ(with_offset->models[0].top5, pre_shifted->models[0].top5);
  // Label 9 + 1 leaves the 10 classes: the error says both numbers.
  write_text(d + "/nine.txt", "0.png 9\n");
  o.labels_file = d + "/nine.txt";
  o.label_offset = 1;
  auto out = run_eval(o);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("label 9 + offset 1 is outside"), std::string::npos) << out.status().message();
}

TEST(SessionEvalTest, ConfigYamlPreprocessesLikeTheFlags) {
  // The conversion's YAML (input_parameters: rgb NCHW, ImageNet mean/scale) given with
  // --config to the plain float model scores exactly as the equivalent flags do.
  EvalOptions o;
  o.models = {testing::tiny_models().plain};
  o.data_dir = make_class_set();
  o.progress = false;
  o.config_path = testing::tiny_models().dir + "/cfg.yaml";
  auto from_config = run_eval(o);
  o.config_path.clear();
  o.image.mean = testing::kTinyMean;
  o.image.scale = testing::kTinyScale;
  auto from_flags = run_eval(o);
  ASSERT_TRUE(from_config.ok()) << from_config.status().message();
  ASSERT_TRUE(from_flags.ok());
  EXPECT_EQ(eval_json(*from_config), eval_json(*from_flags));
  // The same at the input tensor, where a config that was ignored would show.
  auto session = Session::open(testing::tiny_models().plain);
  ASSERT_TRUE(session.ok());
  auto text = read_file(testing::tiny_models().dir + "/cfg.yaml");
  ASSERT_TRUE(text.ok());
  auto specs = parse_stored_input_specs(*text, "cfg.yaml");
  ASSERT_TRUE(specs.ok()) << specs.status().message();
  const Image img = testing::random_image(16, 16, 3, 8);
  const IoInfo& io = (*session)->inputs()[0];
  auto a = image_to_model_input(img, input_specs_for(**session, *specs, {})[0], io, {});
  auto b = image_to_model_input(img, input_specs_for(**session, {}, o.image)[0], io, o.image);
  auto raw = image_to_model_input(img, input_specs_for(**session, {}, {})[0], io, {});
  ASSERT_TRUE(a.ok() && b.ok() && raw.ok());
  const auto da = a->data<float>(), db = b->data<float>(), dr = raw->data<float>();
  EXPECT_TRUE(std::equal(da.begin(), da.end(), db.begin()));
  EXPECT_FALSE(std::equal(da.begin(), da.end(), dr.begin()));
  o.config_path = o.data_dir + "/class0/0.png";  // not a YAML: the config error names it
  auto bad = run_eval(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("0.png"), std::string::npos) << bad.status().message();
}

TEST(SessionEvalTest, BadImageAndLabelErrorsNameThem) {
  EvalOptions o;
  o.models = {testing::tiny_models().quantized};
  o.data_dir = make_class_set();
  o.progress = false;
  o.jobs = 2;
  write_text(o.data_dir + "/class1/broken.png", "\x89PNG not really");
  write_text(o.data_dir + "/class2/broken.png", "\x89PNG not really");
  auto r = run_eval(o);
  ASSERT_FALSE(r.ok());
  // The first broken image in data set order, whichever worker met which first.
  EXPECT_NE(r.status().message().find("class1/broken.png"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("eval: ", 0), 0u) << r.status().message();
  // A label beyond the model's 10 classes.
  const std::string d = fresh_dir("label_range");
  testing::write_png(d + "/a.png", 16, 16, 1);
  write_text(d + "/val.txt", "a.png 10\n");
  o.data_dir = d;
  o.labels_file = d + "/val.txt";
  auto l = run_eval(o);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("label 10 is outside"), std::string::npos) << l.status().message();
}

}  // namespace
}  // namespace qmap
