// load_model_bin: the .bin -> Model step. The reader (src/format/bin_reader.h, read_bin:
// bytes -> {IntProgram, BinMetadata}) is written on its own branch; once merged this function
// becomes read_bin + model_from_program with the metadata's input color types and layouts:
//   QMAP_ASSIGN_OR_RETURN(auto bin, read_bin(bytes, name));
//   return model_from_program(std::move(bin.program), formats_of(bin.metadata), name);
// Until then a .bin is refused with an error saying so (never a crash or a guess).
#include "runtime/model_impl.h"

namespace qmap::rt {

Result<Model> load_model_bin(std::span<const std::byte> bytes, const std::string& name) {
  return error("runtime: '{}' ({} bytes): this build has no .bin reader yet (src/format is not merged); build the "
               "model in memory from the quantized ONNX instead",
               name, bytes.size());
}

}  // namespace qmap::rt
