// Labeled image sets for `qmap eval`, in the two layouts users have:
//  - a folder plus a labels file of "<file> <label>" lines (ImageNet val.txt style: the file
//    relative to the folder, the label a non-negative integer class index);
//  - one sub-folder per class: sorted folder names (byte order) give the class indices
//    0, 1, 2, ... (torchvision ImageFolder's rule).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace qmap {

struct LabeledImage {
  std::string path;
  int64_t label = 0;
};

struct LabeledImageSet {
  std::vector<LabeledImage> images;     // labels file: file order; folders: class by class, names sorted
  std::vector<std::string> class_names; // the class folder names; empty with a labels file
};

// labels_file empty: the class-folder layout. limit > 0 keeps the first `limit` images.
// Errors name the file and line ("labels 'val.txt' line 3: ..."), a listed image that does
// not exist, a data folder without images.
Result<LabeledImageSet> load_labeled_images(const std::string& data_dir, const std::string& labels_file,
                                            size_t limit = 0);

}  // namespace qmap
