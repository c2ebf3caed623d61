// Listing the data files of a folder the same way everywhere (calibration data reader,
// `qmap preprocess`): regular files only, hidden files (".name") ignored, sorted by name
// (byte order), so sample order never depends on the file system.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace qmap {

// True for names ending in .jpg, .jpeg, .png or .bmp (any case). Only used to pick files out
// of a folder (a labels.txt beside the images is skipped); decoding detects the format from
// the bytes.
bool has_image_extension(const std::string& name);

// File names (not paths) in `dir`; images_only keeps has_image_extension names. Errors name
// the folder: missing, not a folder, unreadable.
Result<std::vector<std::string>> list_data_files(const std::string& dir, bool images_only);

// "photo.JPEG" -> "photo"; "a.b.png" -> "a.b"; "noext" -> "noext".
std::string file_stem(const std::string& name);

}  // namespace qmap
