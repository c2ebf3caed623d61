// Deterministic folder listing for data files.
#include "image/file_list.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace qmap {

bool has_image_extension(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp";
}

Result<std::vector<std::string>> list_data_files(const std::string& dir, bool images_only) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return error("folder '{}': does not exist", dir);
  if (!fs::is_directory(dir, ec)) return error("folder '{}': is not a folder", dir);
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec);
  if (ec) return error("folder '{}': cannot list: {}", dir, ec.message());
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (!e.is_regular_file(ec)) continue;  // follows symlinks; skips sub-folders
    if (images_only && !has_image_extension(name)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string file_stem(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace qmap
