# Build settings for coio's own targets (tests, examples, benchmarks); never imposed on users.

# coio_defaults(<target>): warnings, sanitizers, and exported symbols.
function(coio_defaults target)
  target_link_libraries(${target} PRIVATE coio::coio)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(COIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(COIO_SANITIZE)
  set(_coio_san_flags -fsanitize=${COIO_SANITIZE} -fno-omit-frame-pointer)
  if(COIO_SANITIZE MATCHES "undefined")
    list(APPEND _coio_san_flags -fno-sanitize-recover=all)
  endif()
  add_compile_options(${_coio_san_flags})
  add_link_options(${_coio_san_flags})
endif()
