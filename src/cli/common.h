// Helpers shared by the subcommands: argument parsing and error reporting.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/log.h"
#include "core/status.h"
#include "ir/tensor.h"

namespace qmap::cli {

// "1x3x224x224" -> {1,3,224,224}; errors name the text and the rule.
Result<Dims> parse_shape(const std::string& text);

// --input-shape NAME SHAPE pairs (CLI11 collects them flat) -> map.
Result<std::map<std::string, Dims>> parse_input_shapes(const std::vector<std::string>& flat);

// --custom-op-lib LIB (repeatable): custom-op plugin libraries (docs/custom-op.md).
void add_custom_op_lib_option(CLI::App* cmd, std::vector<std::string>* libs);

// Prints "ERROR <message>" on stderr (and to the log when given) and returns exit code 1.
int fail(const Status& status, Logger* log = nullptr);

}  // namespace qmap::cli
