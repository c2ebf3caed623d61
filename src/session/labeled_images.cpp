// Reading an eval data set: a labels file or class sub-folders, checked before any decoding.
#include "session/labeled_images.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>

#include "core/file_io.h"
#include "image/file_list.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

Result<LabeledImageSet> from_labels_file(const std::string& dir, const std::string& labels_file, size_t limit) {
  QMAP_ASSIGN_OR_RETURN(std::string text, read_file(labels_file));
  LabeledImageSet set;
  std::istringstream in(text);
  size_t line_no = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;  // blank lines and comments
    // The label is the last field, so file names may contain spaces.
    const size_t sep = line.find_last_of(" \t");
    int64_t label = -1;
    const std::string label_text = sep == std::string::npos ? "" : line.substr(sep + 1);
    const auto [p, ec] = std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    if (sep == std::string::npos || ec != std::errc() || p != label_text.data() + label_text.size() || label < 0)
      return error("eval: labels '{}' line {}: '{}': expected '<image file> <label>' with a non-negative integer label",
                   labels_file, line_no, line);
    const std::string file = trim(line.substr(0, sep));
    const std::string path = (fs::path(dir) / file).string();
    std::error_code ec2;
    if (!fs::is_regular_file(path, ec2))
      return error("eval: labels '{}' line {}: image '{}' does not exist", labels_file, line_no, path);
    set.images.push_back({path, label});
    if (limit > 0 && set.images.size() == limit) break;
  }
  if (set.images.empty()) return error("eval: labels '{}': no '<image file> <label>' lines", labels_file);
  return set;
}

Result<LabeledImageSet> from_class_folders(const std::string& dir, size_t limit) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return error("eval: data folder '{}': not a folder", dir);
  LabeledImageSet set;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && !name.empty() && name[0] != '.') set.class_names.push_back(name);
  }
  if (ec) return error("eval: data folder '{}': {}", dir, ec.message());
  std::sort(set.class_names.begin(), set.class_names.end());
  for (size_t c = 0; c < set.class_names.size(); ++c) {
    const std::string class_dir = (fs::path(dir) / set.class_names[c]).string();
    auto names = list_data_files(class_dir, true);
    if (!names.ok()) return names.status().with_context("eval: ");
    for (const std::string& n : *names) {
      if (limit > 0 && set.images.size() == limit) return set;
      set.images.push_back({(fs::path(class_dir) / n).string(), static_cast<int64_t>(c)});
    }
  }
  if (set.images.empty())
    return error("eval: data folder '{}': no class sub-folders with images (.jpg/.jpeg/.png/.bmp); "
                 "give --labels for a flat folder with a '<file> <label>' list",
                 dir);
  return set;
}

}  // namespace

Result<LabeledImageSet> load_labeled_images(const std::string& data_dir, const std::string& labels_file,
                                            size_t limit) {
  if (labels_file.empty()) return from_class_folders(data_dir, limit);
  return from_labels_file(data_dir, labels_file, limit);
}

}  // namespace qmap
