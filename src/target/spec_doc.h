// docs/targets.md, generated from the spec vocabulary (known_params, limit_kinds) and the
// built-in target specs, so the documentation always says what the code checks.
// Regenerate with `qmap checker --print-spec-md > docs/targets.md`; a unit test compares.
#pragma once

#include <span>
#include <string>

#include "target/target_spec.h"

namespace qmap {

std::string targets_markdown(std::span<const TargetSpec> specs);

}  // namespace qmap
