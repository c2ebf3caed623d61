# The ORT peer client library (tools/ort/ort_peer.*), shared by tests/ort/ and bench/.
# Included from both; defines the target once. Not part of qmap's libraries.
if(NOT TARGET qmap_ort_peer)
  find_package(nlohmann_json 3 REQUIRED)
  add_library(qmap_ort_peer STATIC ${CMAKE_SOURCE_DIR}/tools/ort/ort_peer.cpp)
  target_include_directories(qmap_ort_peer PUBLIC ${CMAKE_SOURCE_DIR}/tools/ort)
  target_link_libraries(qmap_ort_peer PUBLIC qmap_core qmap_ir PRIVATE nlohmann_json::nlohmann_json)
  target_compile_definitions(qmap_ort_peer PRIVATE
    QMAP_ORT_RUN_JS="${CMAKE_SOURCE_DIR}/tools/ort/ort_run.js")
endif()
