// Bridges for code that builds a Model in C++ and hands it to C (tests, embedders that make a
// Model without a .bin): wraps it in the C API's handle (free with qmap_model_free).
#pragma once

#include "qmap/runtime.h"
#include "qmap/runtime_c.h"

qmap_model* qmap_model_wrap(qmap::rt::Model model);
