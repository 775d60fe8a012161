# infera_torch.node: the PyTorch (TorchScript) backend's native module, built
# beside infera.node only where libtorch is found, and kept out of infera.node
# so that the main addon and its prebuild load on machines without libtorch.
#
#   INFERA_TORCH = AUTO (build when find_package(Torch) succeeds), ON (required), OFF
#   Torch_DIR or CMAKE_PREFIX_PATH = where TorchConfig.cmake is: Debian's
#   libtorch-dev installs it in /usr/lib/<arch>/cmake/Torch (found by default);
#   the PyTorch zip has it in <libtorch>/share/cmake/Torch
#   (`npm run build:native -- --libtorch <dir>` passes CMAKE_PREFIX_PATH).
set(INFERA_TORCH AUTO CACHE STRING "TorchScript module: AUTO (when libtorch is found), ON (required), OFF")
set(INFERA_ENABLE_TORCH OFF)
if(NOT INFERA_TORCH STREQUAL "OFF")
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(INFERA_ENABLE_TORCH ON)
  elseif(INFERA_TORCH STREQUAL "ON")
    message(FATAL_ERROR "INFERA_TORCH=ON but libtorch was not found: install libtorch-dev, "
      "or pass --libtorch <dir> (the folder of the PyTorch C++ zip)")
  endif()
endif()
message(STATUS "infera: ENABLE_TORCH=${INFERA_ENABLE_TORCH}")

if(INFERA_ENABLE_TORCH)
  add_library(infera_torch SHARED
    native/addon/torch/torch_addon.cc
    native/addon/status_to_js.cc
    native/core/job_thread.cc
    native/core/torch/torch_module.cc
    native/core/torch/torch_strings.cc
    ${CMAKE_JS_SRC})
  target_include_directories(infera_torch PRIVATE native ${CMAKE_JS_INC} ${NODE_ADDON_API_DIR})
  target_include_directories(infera_torch SYSTEM PRIVATE ${TORCH_INCLUDE_DIRS})
  target_compile_definitions(infera_torch PRIVATE
    NAPI_VERSION=${INFERA_NAPI_VERSION} NAPI_CPP_EXCEPTIONS NODE_ADDON_API_DISABLE_DEPRECATED)
  find_package(Threads REQUIRED)
  target_link_libraries(infera_torch PRIVATE ${TORCH_LIBRARIES} Threads::Threads ${CMAKE_JS_LIB})
  set_target_properties(infera_torch PROPERTIES
    OUTPUT_NAME infera_torch PREFIX "" SUFFIX ".node"
    CXX_VISIBILITY_PRESET hidden
    # libtorch is found where it was at build time (a zip outside the loader's path).
    BUILD_RPATH "${TORCH_INSTALL_PREFIX}/lib"
    INSTALL_RPATH "${TORCH_INSTALL_PREFIX}/lib")
endif()
