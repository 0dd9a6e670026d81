{
  "targets": [
    {
      "target_name": "wtsapi32_double",
      "type": "loadable_module",
      "sources": ["src/wtsapi32_double.c"],
      "cflags": ["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-D_POSIX_C_SOURCE=200809L"],
      "cflags!": ["-fno-exceptions"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"] }
    }
  ]
}
