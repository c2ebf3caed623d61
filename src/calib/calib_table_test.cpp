// Calibration table: text round trip (bit-exact floats, quoted names), atomic file write
// and read back, line-numbered parse errors, and the check against a graph.
#include "calib/calib_table.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "calib/calib_test_util.h"
#include "core/file_io.h"

namespace qmap {
namespace {

using calib_testing::add_node;

CalibTable sample_table() {
  CalibTable t;
  t.model = "net";
  t.method = "kl";
  t.num_samples = 100;
  t.entries = {{"input", 2.6400001f, "kl"},
               {"conv1/out", 1.0f / 3.0f, "max"},
               {"name with space", 1e-20f, ""},
               {"quote\"and\\back#hash", 123456.78f, "manual"},
               {"tiny", 1.4e-45f, "kl"}};  // the smallest denormal survives the text form
  return t;
}

TEST(CalibTable, RoundTripIsBitExact) {
  const CalibTable t = sample_table();
  const std::string text = format_calib_table(t);
  auto back = parse_calib_table(text, "t.txt");
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << text;
  EXPECT_EQ(back->model, "net");
  EXPECT_EQ(back->method, "kl");
  EXPECT_EQ(back->num_samples, 100u);
  ASSERT_EQ(back->entries.size(), t.entries.size()) << text;
  for (size_t i = 0; i < t.entries.size(); ++i) {
    EXPECT_EQ(back->entries[i].value, t.entries[i].value) << text;
    EXPECT_EQ(back->entries[i].threshold, t.entries[i].threshold) << t.entries[i].value;
    EXPECT_EQ(back->entries[i].method, t.entries[i].method) << t.entries[i].value;
  }
  EXPECT_NE(text.find("\nconv1/out 0.33333334 max\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n\"name with space\" 1e-20\n"), std::string::npos) << text;
}

TEST(CalibTable, WriteAndReadFile) {
  const std::string dir = ::testing::TempDir() + "/calib_table_test";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/cal.txt";
  ASSERT_TRUE(write_calib_table(path, sample_table()).ok());
  auto back = read_calib_table(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->thresholds(), sample_table().thresholds());
  // Only the table itself is left in the folder (no temporary file).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  auto missing = read_calib_table(dir + "/nope.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.txt"), std::string::npos) << missing.status().message();
}

TEST(CalibTable, CommentsAndBlankLinesAreIgnored) {
  auto t = parse_calib_table("# hand-written\n\n  a 1.5   # after the fields\nb\t2 mse#x\n", "h.txt");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->entries.size(), 2u);
  EXPECT_EQ(t->entries[0].value, "a");
  EXPECT_EQ(t->entries[0].threshold, 1.5f);
  EXPECT_EQ(t->entries[0].method, "");
  EXPECT_EQ(t->entries[1].method, "mse");
}

TEST(CalibTable, ParseErrorsNameFileAndLine) {
  const struct {
    const char* text;
    const char* expect;
  } cases[] = {
      {"a 1\nb\n", "calibration table f.txt:2: value 'b' has no threshold"},
      {"a abc\n", "f.txt:1: threshold 'abc' of 'a': not a number"},
      {"a 1.5x\n", "f.txt:1: threshold '1.5x' of 'a': not a number"},
      {"# c\na 0\n", "f.txt:2: threshold 0 of 'a': must be a finite number > 0"},
      {"a -1\n", "threshold -1 of 'a': must be a finite number > 0"},
      {"a inf\n", "threshold inf of 'a': must be a finite number > 0"},
      {"a nan\n", "threshold nan of 'a': must be a finite number > 0"},
      {"a 1e39\n", "threshold '1e39' of 'a': not a number"},  // out of float range
      {"a 1\na 2\n", "f.txt:2: value 'a' appears twice"},
      {"a 1 kl extra\n", "f.txt:1: unexpected 'extra' after the method"},
      {"\"a b 1\n", "f.txt:1: name has no closing '\"'"},
      {"# samples: many\n", "f.txt:1: samples 'many': not a non-negative integer"},
  };
  for (const auto& c : cases) {
    auto r = parse_calib_table(c.text, "f.txt");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

Graph two_value_graph() {
  Graph g;
  g.name = "g";
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{4});
  const ValueId y = g.add_value("y", DType::kFloat32, Dims{4});
  g.inputs = {x};
  add_node(g, "Relu", {x}, {y});
  g.outputs = {y};
  g.rebuild_producers();
  return g;
}

TEST(CalibTable, MakeOrdersByGraphAndCheckCoversGraph) {
  const Graph g = two_value_graph();
  const CalibTable t = make_calib_table(g, {{"y", 2.f}, {"x", 1.f}, {"extra", 3.f}}, "max", 7);
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.entries[0].value, "x");
  EXPECT_EQ(t.entries[1].value, "y");
  EXPECT_EQ(t.entries[2].value, "extra");
  EXPECT_EQ(t.model, "g");

  EXPECT_TRUE(check_thresholds_cover(g, {{"x", 1.f}, {"y", 2.f}}, "c.txt").ok());
  const Status extra = check_thresholds_cover(g, t.thresholds(), "c.txt");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.message().find("c.txt: value 'extra'"), std::string::npos) << extra.message();
  const Status missing = check_thresholds_cover(g, {{"x", 1.f}}, "c.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("value 'y' of the model has no threshold"), std::string::npos) << missing.message();
}

}  // namespace
}  // namespace qmap
